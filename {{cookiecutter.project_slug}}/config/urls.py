from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }}.core import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", core_views.healthz, name="healthz"),
]
