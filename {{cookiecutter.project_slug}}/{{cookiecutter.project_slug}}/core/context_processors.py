from django.conf import settings


def project(request):
    """Make the project's name available to every template."""
    return {"project_name": settings.PROJECT_NAME}
