"""Local settings with a fast password hasher, for load tests of a rendered project.

Not part of the generated project: a process of a rendered project uses it
when this directory is on its PYTHONPATH, with
DJANGO_SETTINGS_MODULE=fast_hash_settings. Hashing a password the way
production does takes most of a signup's time; these tests measure what the
database does, so they skip that cost.
"""

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
