"""Production settings with a fast password hasher, for load tests of a rendered project.

Not part of the generated project: a process of a rendered project uses it
when this directory is on its PYTHONPATH, with
DJANGO_SETTINGS_MODULE=fast_hash_production_settings (tests/test_two_nodes.py,
benchmarks/nodes.py). Everything else is the production settings: a
signup's password hash (Argon2, about 0.22 s of CPU) would otherwise be most
of what a load of signups measures, on nodes as on one machine.
"""

from config.settings.production import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
