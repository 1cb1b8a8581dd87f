from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "foodflow.testing"
    label = "testing"
