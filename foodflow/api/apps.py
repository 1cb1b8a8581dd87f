from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "foodflow.api"
    label = "api"
    verbose_name = "API"
