from django.conf import settings
from django.http import HttpRequest


def project(request: HttpRequest) -> dict[str, str]:
    """Make the project's name available to every template."""
    return {"project_name": settings.PROJECT_NAME}
