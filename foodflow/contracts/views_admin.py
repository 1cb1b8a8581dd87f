"""(being written)"""

from django.http import Http404


def __getattr__(name):
    def view(request, *args, **kwargs):
        raise Http404

    return view
