"""Every worked example (seeds transcribed to the wire, digest facts, rejected quirks)
behaves as specs/examples/index.yaml says, for every api-version it names."""

from __future__ import annotations

from typing import Any

import pytest

import callrec
from callrec._inputs import Batch, Document, read_documents
from callrec._specs import example_path
from callrec.specs import api_versions, examples, has_schema

ENTRIES = examples()


def _payloads(entry: dict[str, Any]) -> list[Any]:
    payloads: list[Any] = []
    for item in read_documents(example_path(entry).read_bytes()):
        assert isinstance(item, Document | Batch), item
        payloads += item.values if isinstance(item, Batch) else [item.value]
    return payloads


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_example(entry: dict[str, Any]) -> None:
    schema = entry["schema"]
    for payload in _payloads(entry):
        if not entry.get("valid", True):
            failures = callrec.validate(payload, schema)
            for expected in entry["failures"]:
                assert any(
                    f.pointer == expected["pointer"] and expected["contains"] in f.message
                    for f in failures
                ), (expected, failures)
            continue
        assert callrec.validate(payload, schema) == [], "must be valid against the union schema"
        versions = (
            [v for v in api_versions() if has_schema(schema, v)]
            if entry["apiVersions"] == "all"
            else entry["apiVersions"]
        )
        for version in versions:
            assert callrec.validate(payload, schema, api_version=version) == [], version
        for version in entry.get("rejectedBy", ()):
            assert callrec.validate(payload, schema, api_version=version) != [], version


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_example_is_detected_as_its_schema(entry: dict[str, Any]) -> None:
    for payload in _payloads(entry):
        detected = callrec.detect(payload)
        assert detected == entry["schema"], (detected, entry["file"])


def test_metadata_examples_keep_real_file_line_ends() -> None:
    for entry in ENTRIES:
        if entry["schema"] == "RecordingMetadata":
            assert b"\r\n" in example_path(entry).read_bytes(), entry["file"]
