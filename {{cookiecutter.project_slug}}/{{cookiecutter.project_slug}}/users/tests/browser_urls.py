"""The project's URLs, plus uploaded files served from the default storage.

The browser tests' live server runs with DEBUG off and the in-memory
storage of the test settings, so nothing else would show an avatar. And a
page with an injected inline script, for the CSP test.
"""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def uploaded_file(request, name):
    if not default_storage.exists(name):
        raise Http404(name)
    return FileResponse(default_storage.open(name))


def injected_script(request):
    """A page with an inline script, as a stored XSS would write it."""
    return HttpResponse(
        "<!doctype html><title>untouched</title>"
        "<script>document.title = 'script ran'</script>"
    )


urlpatterns = [
    *project_urlpatterns,
    path("media/<path:name>", uploaded_file),
    path("injected-script/", injected_script),
]
