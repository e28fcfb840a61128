"""Shared test set-up: hypothesis profiles sized by an environment variable (tiktoken-style)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("RESCORE_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("RESCORE_HYPOTHESIS_PROFILE", "default"))

# The scripts that made the fixtures need the tools that wrote them (inspect_ai, HELM,
# lighteval), which the tests do not install: they are run by hand, never collected.
collect_ignore_glob = ["fixtures/*"]
