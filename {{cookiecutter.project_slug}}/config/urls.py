from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from {{ cookiecutter.project_slug }}.pages import views as pages

urlpatterns = [
    path("", pages.home, name="home"),
    # The project's own account pages first: signup, profile, and a logout
    # that says goodbye; Django's auth views do login and passwords.
    path("accounts/", include("{{ cookiecutter.project_slug }}.users.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", pages.healthz, name="healthz"),
]

# Uploaded files (avatars) in development; static() adds nothing unless
# DEBUG is on. In production the web server or a storage service serves them.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
