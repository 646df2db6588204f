"""Test set-up shared by the core and the platform.

Hypothesis runs with a fixed seed when CI=true (the "ci" profile), so that a CI run is
repeatable; locally it explores new examples on every run.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
