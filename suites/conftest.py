"""Fixtures the suites share beyond the plugin's (callrec/conformance/plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callrec.client import Client
from callrec.conformance import Receiver, Target
from suites.support import (
    EMULATOR_SUBSCRIPTIONS,
    EventFeed,
    emulator_event_feed,
    hook_problem,
    service_event_feed,
)


@pytest.fixture(scope="session")
def event_feed(target: Target, session_client: Client, hooks: Receiver) -> Iterator[EventFeed]:
    """RecordingFileStatusUpdated deliveries, a receiver channel per Event Grid schema. On a
    callrec emulator the suite subscribes them for the session (and removes them after); on
    any other target the user subscribes the fixed URLs `EventFeed.instructions` names."""
    problem = hook_problem(target, hooks)
    if not target.is_emulator:
        yield service_event_feed(hooks, problem)
        return
    if problem is not None:
        yield EventFeed(hooks, {}, subscribed=True, unusable=problem)
        return
    feed, created = emulator_event_feed(session_client, hooks)
    yield feed
    for subscription in created:
        session_client.request("DELETE", f"{EMULATOR_SUBSCRIPTIONS}/{subscription}")
