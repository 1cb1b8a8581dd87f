from .urls_customers import urlpatterns as customer_patterns
from .urls_market import urlpatterns as market_patterns

app_name = "crm"
urlpatterns = [*customer_patterns, *market_patterns]
