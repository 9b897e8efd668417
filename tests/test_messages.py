"""Error messages stay as good as python-jsonschema's: for every targeted mutation, each
spot python-jsonschema flags is flagged by callrec too, and callrec's message names the same
essentials (the missing field, the bad value, the expected type, the limit, the format)."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
import pytest
import referencing
from hypothesis import given
from hypothesis import strategies as st

import callrec
import strategies
from callrec._profiles import versioned_schemas
from callrec._specs import schema_id

SCHEMAS = [
    "StartCallRecordingRequest",
    "RecordingFileStatusUpdatedEventGridEvent",
    "RecordingMetadata",
    "RecordingStateChangedCloudEvent",
]


@functools.cache
def _reference(schema: str, version: str | None) -> jsonschema.Draft202012Validator:
    documents = versioned_schemas(version)
    registry = referencing.Registry().with_resources(
        (schema_id(name), referencing.Resource.from_contents(doc))
        for name, doc in documents.items()
    )
    return jsonschema.Draft202012Validator(
        documents[schema],
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _reference_errors(
    payload: Any, schema: str, version: str | None
) -> list[jsonschema.ValidationError]:
    return list(_reference(schema, version).iter_errors(payload))


def _essential(error: jsonschema.ValidationError) -> str | None:
    """The word a good message for this error must contain."""
    if error.validator == "required":
        return re.findall(r"'([^']+)' is a required property", error.message)[0]
    if error.validator in ("maximum", "minimum"):
        return str(error.validator_value)
    if error.validator == "format":
        return str(error.validator_value)
    if error.validator == "type":
        return str(error.validator_value) if isinstance(error.validator_value, str) else None
    if error.validator in ("enum", "const") and isinstance(error.instance, str):
        return error.instance
    return None


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("version", [None, "2025-06-15"])
@given(data=st.data())
def test_messages_match_python_jsonschema(
    schema: str, version: str | None, data: st.DataObject
) -> None:
    mutation = data.draw(
        strategies.mutations(strategies.PAYLOADS[schema](version), schema, version)
    )
    ours = callrec.validate(mutation.payload, schema, api_version=version)
    theirs = _reference_errors(mutation.payload, schema, version)
    assert theirs, "the reference validator must also reject the mutation"
    for error in theirs:
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        at_spot = [f.message for f in ours if f.pointer == pointer]
        assert at_spot, (pointer, error.message, ours)
        word = _essential(error)
        if word is not None:
            assert any(word in message for message in at_spot), (word, error.message, at_spot)
