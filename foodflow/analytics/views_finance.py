"""Pages of the receivables and service figures. (Helper C.)"""

urlpatterns: list = []
