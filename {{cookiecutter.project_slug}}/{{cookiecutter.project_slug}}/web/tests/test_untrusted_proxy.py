"""A proxy in front while DJANGO_TRUSTED_PROXIES is 0: the log and check --deploy say so."""

import logging

import pytest
from django.core.management import call_command

from ..middleware import logger

pytestmark = pytest.mark.django_db


def warnings_in(caplog):
    return [
        r
        for r in caplog.records
        if r.name == logger.name and r.levelno == logging.WARNING
    ]


def test_a_forwarded_for_with_no_trusted_proxy_is_warned_about_once(client, caplog):
    for _ in range(3):
        client.get("/healthz/", HTTP_X_FORWARDED_FOR="203.0.113.9")

    [warning] = warnings_in(caplog)
    assert "DJANGO_TRUSTED_PROXIES" in warning.getMessage()


def test_no_warning_without_the_header_or_with_trusted_proxies(
    client, caplog, settings
):
    client.get("/healthz/")
    settings.TRUSTED_PROXIES = 1
    client.get("/healthz/", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert warnings_in(caplog) == []


def test_check_deploy_says_what_the_setting_must_be(settings, capsys):
    call_command("check", "--deploy", "--tag", "security")
    output = capsys.readouterr()

    assert "web.I001" in output.out + output.err
    assert (
        "set DJANGO_TRUSTED_PROXIES to the number of proxies" in output.out + output.err
    )

    settings.TRUSTED_PROXIES = 1
    call_command("check", "--deploy", "--tag", "security")
    output = capsys.readouterr()
    assert "web.I001" not in output.out + output.err
