"""Hooks users implement in their ``conftest.py`` to adapt the suites to their setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from callrec.conformance._calls import CallProvider
    from callrec.conformance._target import Target


@pytest.hookspec(firstresult=True)
def pytest_callrec_call_provider(config: pytest.Config, target: Target) -> CallProvider | None:
    """Return the `CallProvider` that gives the suite calls to record on ``target`` (for
    example one that places calls with your own bot), or None for the default: the emulator's
    control API, else ``--server-call-id``."""
