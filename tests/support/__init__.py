"""What the template's tests and benchmarks share.

- harness.py: render the template, run commands, start and stop processes
  by process group, free ports, wait for output or HTTP, PostgreSQL
  databases and Redis keys. No pytest: benchmarks import it too.
- worker_site.py: a rendered project with real worker processes, one
  subclass per background runner (the worker tests).
- mail_sink.py: a real SMTP server on the loopback that records what it gets.
- nodes.py: nodes (gunicorn and a worker) behind the project's deploy/nginx.conf.

Run by a rendered project's Python (this directory on its PYTHONPATH, or as
scripts): postgres_admin.py, redis_keys.py, slow_email.py,
fast_hash_settings.py, fast_hash_production_settings.py.
"""
