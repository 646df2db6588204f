"""Settings for the test suite: the real settings, with a test secret and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "nciss-tests-only")

from nciss_platform.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
