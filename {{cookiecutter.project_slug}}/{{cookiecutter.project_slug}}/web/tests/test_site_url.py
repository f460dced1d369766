"""DJANGO_SITE_URL: the start of every link in an email, checked when settings load."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


def load_settings(module, **environ):
    """Load a settings module in a fresh process; return it finished."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.SITE_URL)",
        ],
        cwd=settings.BASE_DIR,
        env={
            **keep,
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            "DATABASE_URL": "sqlite://:memory:",
            **environ,
            "DJANGO_SETTINGS_MODULE": module,
        },
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("url", "site_url"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://shop.example.com/", "https://shop.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_a_site_url_is_scheme_host_and_port(url, site_url):
    result = load_settings("config.settings.production", DJANGO_SITE_URL=url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == site_url


@pytest.mark.parametrize(
    "url",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://",
        "https://shop.example.com/shop/",
        "https://shop.example.com/?next=/",
        "https://shop.example.com:port",
        "https://user:pass@shop.example.com",
    ],
)
def test_anything_else_is_refused_with_a_clear_error(url):
    result = load_settings("config.settings.local", DJANGO_SITE_URL=url)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SITE_URL must be scheme://host[:port]" in (
        result.stderr
    )
    assert repr(url) in result.stderr


def test_production_requires_a_site_url():
    result = load_settings("config.settings.production")

    assert result.returncode != 0
    assert "Set the DJANGO_SITE_URL environment variable" in result.stderr
