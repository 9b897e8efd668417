"""Retention (contract §5): a recording's files stay downloadable for 24 hours after they are
published, then they are gone. Days can only pass on a callrec emulator whose clock this run
alone may move; elsewhere these checks are not applicable."""

# ruff: noqa: PLR0917  (fixtures arrive as positional arguments)

from __future__ import annotations

from typing import Final

import pytest

from callrec.client import Client
from callrec.conformance import ProvidedCall, Target
from callrec.conformance.plugin import ClockControl
from suites.support import (
    FILE_EVENT_SCHEMAS,
    EventFeed,
    cheap_options,
    check_error_answer,
    content_request,
    excerpt,
    own_downloads,
)
from suites.test_eventgrid import record

DAY: Final = 24 * 3600.0
MARGIN: Final = 120.0  # seconds either side of the 24 hours


@pytest.mark.requirement("REC-RETENTION-001", "REC-RETENTION-002")
def test_files_stay_for_a_day_then_go(
    target: Target,
    target_client: Client,
    api_version: str,
    provided_call: ProvidedCall,
    event_feed: EventFeed,
    event_timeout: float,
    clock_control: ClockControl,
) -> None:
    event_feed.require()
    recorded = record(
        target_client,
        provided_call,
        cheap_options(api_version),
        seconds=0.05,
    )
    schema = next(iter(FILE_EVENT_SCHEMAS))
    _, event = event_feed.wait_for_file_event(
        schema, provided_call.server_call_id, timeout=event_timeout, not_before=recorded.not_before
    )
    [chunk] = event["data"]["recordingStorageInfo"]["recordingChunks"]
    wanted = ("contentLocation", "metadataLocation")
    clock_control.advance(DAY - MARGIN)
    for name in wanted:
        answer = content_request(target, target_client, "GET", chunk[name])
        assert answer.status_code == 200, (
            f"REC-RETENTION-001: {name} answered {excerpt(answer)} a little under 24 hours "
            "after the files were published; they must stay downloadable for 24 hours"
        )
    clock_control.advance(
        2 * MARGIN + 2 * 24 * 3600.0
    )  # past the 48 hours REC-RETENTION-003 allows
    own = own_downloads(api_version)  # the conversations API: documented JSON errors
    for name in wanted:
        answer = content_request(target, target_client, "GET", chunk[name])
        if own:
            check_error_answer(
                answer,
                api_version,
                rule="REC-RETENTION-002",
                what=f"{name} more than 48 hours after the files were published",
                status=404,
            )
            continue
        expired = (answer.status_code, answer.content)
        assert expired == (404, b""), (
            f"REC-RETENTION-002: {name} answered {excerpt(answer)} more than 48 hours after the "
            "files were published; expired content answers 404 with an empty body"
        )
    if own:
        return  # no delete is documented
    gone = content_request(target, target_client, "DELETE", chunk["deleteLocation"])
    assert gone.status_code == 404, (
        f"REC-RETENTION-002: deleting expired content answered {excerpt(gone)}, not 404"
    )
