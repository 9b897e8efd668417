"""Property tests: strategies derived from the schemas generate payloads the validator
accepts for every api-version, and each targeted mutation is rejected at the mutated spot."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import callrec
import strategies
from callrec._profiles import versioned_schemas
from callrec.specs import api_versions, has_schema


def _distinct_versions() -> list[str]:
    """The api-versions whose narrowed schemas differ from every earlier one's (2023-06-15-preview
    validates exactly as 2023-03-06 does: generating for both would test the same thing twice)."""
    seen: set[str] = set()
    found = []
    for version in api_versions():
        key = json.dumps(versioned_schemas(version), sort_keys=True).replace(version, "")
        if key not in seen:
            seen.add(key)
            found.append(version)
    return found


VERSIONS = [None, *_distinct_versions()]
PAIRS = [
    (schema, version)
    for schema in strategies.PAYLOADS
    for version in VERSIONS
    if has_schema(schema, version)
]


@pytest.mark.parametrize(
    ("schema", "version"), PAIRS, ids=[f"{s}@{v or 'union'}" for s, v in PAIRS]
)
@given(data=st.data())
def test_generated_payloads_are_valid(
    schema: str, version: str | None, data: st.DataObject
) -> None:
    payload = data.draw(strategies.PAYLOADS[schema](version))
    assert callrec.validate(payload, schema, api_version=version) == []


MUTATED = [
    (schema, version, kind)
    for schema in (
        "StartCallRecordingRequest",
        "RecordingFileStatusUpdatedEventGridEvent",
        "RecordingStateChangedCloudEvent",
        "RecordingMetadata",
        "RecordingStateResponse",
    )
    for version in (None, "2023-03-06", "2025-06-15")
    for kind in strategies.MUTATION_KINDS
    if not (kind == "above maximum" and schema != "StartCallRecordingRequest")
    and not (
        kind == "bad date" and schema in ("StartCallRecordingRequest", "RecordingStateResponse")
    )
    and not (kind == "wrong enum case" and schema == "RecordingMetadata")
]


@pytest.mark.parametrize(
    ("schema", "version", "kind"), MUTATED, ids=[f"{s}@{v or 'union'}-{k}" for s, v, k in MUTATED]
)
@given(data=st.data())
def test_mutations_are_rejected_where_they_happen(
    schema: str, version: str | None, kind: str, data: st.DataObject
) -> None:
    payloads = strategies.PAYLOADS[schema](version)
    if kind == "above maximum":  # make sure there is a channel to push past 4
        payloads = payloads.filter(lambda p: bool(p.get("channelAffinity")))
    mutation = data.draw(strategies.mutations(payloads, schema, version, kinds=(kind,)))
    failures = callrec.validate(mutation.payload, schema, api_version=version)
    assert any(
        f.pointer == mutation.pointer and mutation.mentions in f.message for f in failures
    ), (mutation, failures)


def test_channel_five_is_rejected_with_a_pointer_to_the_channel() -> None:
    request = {
        "callLocator": {"serverCallId": "x"},
        "channelAffinity": [{"channel": 5, "participant": {"rawId": "8:acs:r_1"}}],
    }
    [failure] = callrec.validate(request, "StartCallRecordingRequest", api_version="2025-06-15")
    assert failure.pointer == "/channelAffinity/0/channel"
    assert "maximum of 4" in failure.message


def test_unknown_mutation_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mutation kinds"):
        strategies.mutations(st.just({}), "RecordingStateResponse", kinds=("nonsense",))
