"""Gunicorn's settings: `gunicorn -c config/gunicorn.py` (the Procfile's web line).

Every value can be overridden without editing this file: GUNICORN_CMD_ARGS
(e.g. "--bind 127.0.0.1:8000 --workers 1") wins over what is set here, and
command-line options win over both.
"""

import logging
import os
from typing import Any

from config import tracing
from config.logging import FORMATTERS, stdout_handler

wsgi_app = "config.wsgi:application"

# All interfaces, on the port the platform gives ($PORT), as Heroku, Dokku
# and most container platforms expect.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Sync workers, each one request at a time: signups are CPU-bound (password
# hashing), so more processes, not threads, use more cores. WEB_CONCURRENCY
# is the platforms' convention; 2 per core is a fair start.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# A worker silent for this long is killed and replaced.
timeout = 30
# On SIGTERM, workers stop accepting, finish the requests they hold for up to
# this long, then are killed. Keep it below your platform's own stop timeout
# (Heroku and Kubernetes wait 30 s, then SIGKILL; `docker stop` waits 10 s
# unless given --time), so requests finish first.
graceful_timeout = 20
# Reuse a connection from the proxy for a few seconds.
keepalive = 5
# No control socket (gunicornc): nothing here uses it, and every Gunicorn of a
# user shares its default path ($HOME/.gunicorn/gunicorn.ctl).
control_socket_disable = True

# The proxy in front (load balancer, nginx) terminates TLS and tells the app
# over plain HTTP that the client used HTTPS, in X-Forwarded-Proto. Gunicorn
# believes that header (for wsgi.url_scheme) only from the addresses listed
# here; the default is the loopback, for a proxy on the same machine. Behind
# a load balancer, set FORWARDED_ALLOW_IPS to its addresses, or to "*" only
# if nothing but the proxy can reach this port (a private network). Django
# reads the same header (SECURE_PROXY_SSL_HEADER in production settings), so
# the rule is the same for both: the port must not be reachable around the
# proxy, and the proxy must set the header itself, never pass on a client's.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


class AccessRequestId(logging.Filter):
    """Put the response's X-Request-ID on its access line as `request_id`.

    It is the id the app's own lines of that request carry
    (web/log_context.py). Defined here, not imported from there: Gunicorn
    sets up logging before Django is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and record.args.get("{x-request-id}o"):
            record.request_id = record.args["{x-request-id}o"]
        return True


# Both logs to stdout, one JSON object per line, like the app's (settings
# LOGGING); an access line carries the request_id of the app's own lines for
# that request.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": AccessRequestId}},
    "formatters": FORMATTERS,
    "handlers": {"stdout": stdout_handler("request_id")},
    # Gunicorn merges this over its defaults, whose root uses a "console"
    # handler that is not defined here.
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {
            "handlers": ["stdout"],
            "level": "INFO",
            "propagate": False,
        },
    },
}


# Tracing (config/tracing.py, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
# starts in each worker when it loads the app, after the fork (WebConfig.ready).
def worker_exit(server: Any, worker: Any) -> None:
    """Export the worker's last spans before it exits (nothing to do with tracing off)."""
    tracing.shutdown()
