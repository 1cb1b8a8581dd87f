"""Pages of process monitoring. (Helper A.)"""

urlpatterns: list = []
