"""Pages of the sales figures and the dashboards."""

urlpatterns: list = []
