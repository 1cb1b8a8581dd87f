"""Pages of targets and KPI appraisal. (Helper B.)"""

urlpatterns: list = []
