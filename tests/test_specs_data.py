"""The spec data checks itself: every file validates against its meta-schema, and the
cross-references between schemas, profiles, rules, examples and the catalog hold."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import jsonschema
import pytest

from callrec._specs import (
    SCHEMA_BASE_URI,
    base_schemas,
    detection_rules,
    meta_schema,
    profiles,
    read_spec_yaml,
    specs_root,
)
from callrec.specs import api_versions, examples, requirements, schema_names

SEEDS = {
    "000_d3db2c78101134c6.txt",
    "001_98ae07f55c7af0d9.txt",
    "002_7a57fee2bba3c30f.txt",
    "003_9dfbd369910db9b9.txt",
    "004_fb3406eff000114b.txt",
}
GA_AND_PREVIEW = [
    "2021-04-13-conversations",
    "2021-11-15-preview",
    "2023-01-15-preview",
    "2023-03-06",
    "2023-06-15-preview",
    "2023-10-15",
    "2024-04-15",
    "2024-06-15-preview",
    "2024-09-01-preview",
    "2024-09-15",
    "2024-11-15-preview",
    "2025-05-15",
    "2025-06-15",
    "2025-08-15-preview",
    "2026-03-12",
]


def _meta_errors(document: Any, name: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(meta_schema(name))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_supported_versions_are_the_ga_versions_and_the_preview() -> None:
    assert api_versions() == GA_AND_PREVIEW


@pytest.mark.parametrize("name", schema_names())
def test_schema_is_valid_2020_12_with_stable_id(name: str) -> None:
    document = base_schemas()[name]
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"{SCHEMA_BASE_URI}{name}.json"
    assert document["title"]
    assert len(document["description"]) >= 20


@pytest.mark.parametrize("name", schema_names())
def test_schema_references_resolve(name: str) -> None:
    for ref in _refs(base_schemas()[name]):
        assert ref.endswith(".json"), ref
        assert ref.removesuffix(".json") in base_schemas(), f"{name} refers to missing {ref}"


def test_every_schema_is_reachable_from_a_profile_operation_event_or_detection_rule() -> None:
    roots = {rule["schema"] for rule in detection_rules()}
    for version_profile in profiles().values():
        for operation in version_profile["operations"].values():
            roots.add(operation.get("request"))
            roots.update(body for body in operation["success"].values() if body)
    reached: set[str] = set()
    pending = [root for root in roots if root]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending += [ref.removesuffix(".json") for ref in _refs(base_schemas()[name])]
    assert set(schema_names()) - reached == set()


@pytest.mark.parametrize("version", GA_AND_PREVIEW)
def test_profile_is_valid_and_names_what_exists(version: str) -> None:
    version_profile = profiles()[version]
    assert _meta_errors(version_profile, "profile") == []
    assert (specs_root() / "profiles" / f"{version}.yaml").is_file()
    for name, rule in version_profile["schemas"].items():
        assert name in base_schemas(), f"{version}: unknown schema {name}"
        if rule == "absent":
            continue
        document = base_schemas()[name]
        known = set(document.get("properties", {}))
        assert set(rule.get("properties", ())) <= known, f"{version}/{name}: unknown properties"
        assert set(rule.get("required", ())) <= known, (
            f"{version}/{name}: required field not a property"
        )
        assert set(rule.get("required", ())) <= set(rule.get("properties", known)), (
            f"{version}/{name}"
        )
        assert set(rule.get("enum", ())) <= set(document.get("enum", ())), (
            f"{version}/{name}: unknown enum value"
        )
    for operation in version_profile["operations"].values():
        for body in [operation.get("request"), *operation["success"].values()]:
            assert body is None or body in base_schemas()
            assert body is None or version_profile["schemas"].get(body) != "absent"


@pytest.mark.parametrize("version", GA_AND_PREVIEW)
def test_profile_events_match_the_event_schemas_it_keeps(version: str) -> None:
    version_profile = profiles()[version]
    tagged = {
        name: doc["x-callrec-event"]
        for name, doc in base_schemas().items()
        if "x-callrec-event" in doc
    }
    kept = {tagged[name] for name in tagged if version_profile["schemas"].get(name) != "absent"}
    assert kept - {"Microsoft.EventGrid.SubscriptionValidationEvent"} == set(
        version_profile["events"]
    )


def test_detection_rules_are_valid_and_name_known_schemas() -> None:
    assert _meta_errors(read_spec_yaml("detect.yaml"), "detect") == []
    assert {rule["schema"] for rule in detection_rules()} <= set(schema_names())


def test_operation_facts_cover_every_profiled_operation() -> None:
    facts = read_spec_yaml("operations.yaml")
    for version_profile in profiles().values():
        assert set(version_profile["operations"]) <= set(facts["operations"])
        for event in version_profile["events"]:
            assert event in facts["webhooks"], event


def test_examples_index_is_valid_and_complete() -> None:
    index = read_spec_yaml("examples/index.yaml")
    assert _meta_errors(index, "examples") == []
    listed = {entry["file"] for entry in examples()}
    on_disk = {
        str(path.relative_to(specs_root() / "examples"))
        for path in (specs_root() / "examples").rglob("*")
        if path.suffix in (".json", ".ndjson")
    }
    assert listed == on_disk
    for entry in examples():
        assert entry["schema"] in schema_names()
        source = entry["source"].split(" §")[0]
        assert source in SEEDS | {"recording-contract.md"}, source
    assert {entry["source"].split(" §")[0] for entry in examples()} >= SEEDS, (
        "every seed has an example"
    )


def test_requirement_catalog_is_valid() -> None:
    catalog = read_spec_yaml("requirements.yaml")
    assert _meta_errors(catalog, "requirements") == []


def test_requirement_ids_and_statements_are_unique_and_numbered() -> None:
    entries = requirements()
    ids = Counter(entry["id"] for entry in entries)
    statements = Counter(entry["statement"].casefold() for entry in entries)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [s for s, n in statements.items() if n > 1] == []
    by_area: dict[str, list[int]] = {}
    for entry in entries:
        area, number = re.fullmatch(r"REC-([A-Z]+)-(\d{3})", entry["id"]).groups()  # type: ignore[union-attr]
        assert area == entry["area"]
        by_area.setdefault(area, []).append(int(number))
    for area, numbers in by_area.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{area} numbering has gaps"


def test_requirement_sources_name_real_documents() -> None:
    for entry in requirements():
        source = entry["source"]
        if source["kind"] == "seed":
            assert source["ref"].split(" §")[0] in SEEDS, entry["id"]
        elif source["kind"] in ("digest", "observed"):
            assert source["ref"].startswith("recording-contract.md §"), entry["id"]
        versions = entry["versions"]
        assert versions == "all" or set(versions) <= set(GA_AND_PREVIEW), entry["id"]


def test_catalog_covers_every_area_the_issue_names() -> None:
    areas = {entry["area"] for entry in requirements()}
    assert areas >= {
        "START",
        "GET",
        "STOP",
        "PAUSE",
        "RESUME",
        "STATE",
        "ERR",
        "AUTH",
        "REPEAT",
        "CALLBACK",
        "EVENT",
        "HOOK",
        "MEDIA",
        "META",
        "RANGE",
        "DELETE",
        "RETENTION",
    }


def test_error_table_codes_all_appear_in_the_catalog() -> None:
    text = json.dumps(requirements())
    for code in ["8522", "8501", "8523", "8559", "8553", "8519", "8571", "8573"]:
        assert code in text, code


@pytest.mark.parametrize("name", ["errors", "media"])
def test_emulator_data_files_are_valid(name: str) -> None:
    assert _meta_errors(read_spec_yaml(f"{name}.yaml"), name) == []


def test_media_combinations_use_the_request_enums() -> None:
    from callrec.specs import enum_values

    for combination in read_spec_yaml("media.yaml")["combinations"]:
        assert combination["content"] in enum_values("RecordingContentType")
        assert combination["channel"] in enum_values("RecordingChannelType")
        assert combination["format"] in enum_values("RecordingFormatType")


def test_error_catalog_carries_the_documented_codes() -> None:
    errors = read_spec_yaml("errors.yaml")["errors"]
    pairs = {(e["status"], e["code"]) for e in errors.values() if e["source"] != "decision"}
    assert {(404, "8522"), (400, "8501"), (400, "8523"), (401, "401"), (400, "8553")} <= pairs


def test_deviations_are_valid_and_name_catalog_requirements() -> None:
    document = read_spec_yaml("deviations.yaml")
    assert _meta_errors(document, "deviations") == []
    known = {entry["id"] for entry in requirements()}
    for entry in document["deviations"]:
        assert entry["requirement"] in known, entry
