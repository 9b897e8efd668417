"""Hypothesis settings profiles, a pytest plugin; choose one with HYPOTHESIS_PROFILE.

- ``dev`` (default): quick local runs;
- ``ci``: more examples, no deadline (shared CI machines are noisy);
- ``live``: very few examples, for runs against a real resource that cost money.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("live", max_examples=5, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
