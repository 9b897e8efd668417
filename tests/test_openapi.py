"""The generated OpenAPI documents are current, valid OpenAPI 3.1, and usable by schemathesis."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi

import callrec
from callrec._openapi import build, render_all
from callrec._specs import specs_root
from callrec.specs import api_versions, profile, takes_api_version

VERSIONS = api_versions()


def _document(version: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (specs_root() / "openapi" / f"{version}.json").read_text("utf-8")
    )
    return document


def test_checked_in_documents_are_up_to_date() -> None:
    folder = specs_root() / "openapi"
    rendered = render_all()
    assert sorted(path.name for path in folder.glob("*.json")) == sorted(rendered)
    for name, text in rendered.items():
        assert (folder / name).read_text("utf-8") == text, (
            f"{name} is stale: run `callrec specs build`"
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_document_is_valid_openapi_3_1(version: str) -> None:
    document = _document(version)
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)


@pytest.mark.parametrize("version", VERSIONS)
def test_operations_and_success_codes_follow_the_profile(version: str) -> None:
    document = build(version)
    version_profile = profile(version)
    seen = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            seen[operation["operationId"]] = (method.upper(), path, operation)
    assert set(seen) == set(version_profile["operations"])
    for operation_id, expected in version_profile["operations"].items():
        method, path, operation = seen[operation_id]
        assert (method, path) == (expected["method"], expected["path"])
        success = {code for code in operation["responses"] if code.startswith("2")}
        assert success == set(expected["success"])


def test_202_on_start_only_from_2025_05_15() -> None:
    starts = {
        v: set(
            build(v)["paths"][profile(v)["operations"]["StartRecording"]["path"]]["post"][
                "responses"
            ]
        )
        for v in VERSIONS
    }
    assert [v for v, codes in starts.items() if "202" in codes] == [
        "2025-05-15",
        "2025-06-15",
        "2025-08-15-preview",
        "2026-03-12",
    ]


def test_hmac_scheme_is_declared_and_explained() -> None:
    scheme = build("2025-06-15")["components"]["securitySchemes"]["hmac"]
    assert scheme["type"] == "apiKey"
    assert scheme["name"] == "Authorization"
    assert "x-ms-content-sha256" in scheme["description"]
    assert "HMAC-SHA256" in scheme["description"]


def test_links_chain_start_to_the_other_operations() -> None:
    start = build("2025-06-15")["paths"]["/calling/recordings"]["post"]["responses"]["200"]
    assert set(start["links"]) == {
        "GetRecordingProperties",
        "PauseRecording",
        "ResumeRecording",
        "StopRecording",
    }
    assert start["links"]["StopRecording"]["parameters"] == {
        "recordingId": "$response.body#/recordingId"
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_schemathesis_loads_every_operation(version: str) -> None:
    loaded = schemathesis.openapi.from_dict(_document(version))
    labels = {result.ok().label for result in loaded.get_all_operations()}
    expected = {f"{op['method']} {op['path']}" for op in profile(version)["operations"].values()}
    assert labels == expected


@pytest.mark.parametrize("version", ["2023-03-06", "2024-09-15", "2025-08-15-preview"])
def test_schemathesis_positive_start_bodies_pass_callrec(version: str) -> None:
    operation = schemathesis.openapi.from_dict(_document(version))["/calling/recordings"]["POST"]

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        assert callrec.validate(case.body, "StartCallRecordingRequest", api_version=version) == []

    check()


def test_the_conversations_api_documents_its_own_paths_errors_and_no_api_version() -> None:
    version = next(v for v in VERSIONS if not takes_api_version(v))
    document = build(version)
    start = document["paths"]["/calling/conversations/{conversationId}/Recordings"]["post"]
    assert [p["$ref"].rsplit("/", 1)[1] for p in start["parameters"]] == ["conversationId"]
    assert "api-version" not in document["components"]["parameters"]
    error = document["components"]["responses"]["404"]["content"]["application/json"]
    assert error["schema"]["$ref"].endswith("/CommunicationError")  # the bare error object
    link = start["responses"]["200"]["links"]["GetRecordingProperties"]["parameters"]
    assert link == {
        "recordingId": "$response.body#/recordingInstanceId",
        "conversationId": "$request.path.conversationId",
    }
    media = document["paths"]["/recording/download/{documentId}"]["get"]["responses"]["200"]
    assert "application/octet-stream" in media["content"]
