"""Pages of imports: the jobs, upload, column mapping, check, import with progress, the report.
(Helper F builds this module.)"""

from django.http import HttpResponse
from django.urls import path

from foodflow.core.views import require

from .permissions import can_import


@require(can_import)
def jobs_view(request):
    return HttpResponse("")


urlpatterns = [path("", jobs_view, name="jobs")]
