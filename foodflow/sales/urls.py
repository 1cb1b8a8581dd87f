from .urls_docs import urlpatterns as docs_patterns
from .urls_ops import urlpatterns as ops_patterns

app_name = "sales"
urlpatterns = [*docs_patterns, *ops_patterns]
