from django.contrib.staticfiles.apps import StaticFilesConfig


class FoodFlowStaticFilesConfig(StaticFilesConfig):
    """collectstatic without what FoodFlow never serves (the sidecar's ReDoc bundle: 15 MB)."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc"]
