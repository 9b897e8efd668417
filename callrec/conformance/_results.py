"""A run's results: test records -> requirement records, known deviations, the files.

``reports/<run id>/results.jsonl`` (schema: ``reports/results.schema.json``) holds a header,
the test records (each with its evidence), one requirement record per catalog requirement and
api-version checked, and a footer; ``junit.xml`` beside it is for CI systems, each test case
named with the requirement ids it checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree as ET

from callrec._specs import read_spec_yaml, specs_root
from callrec.specs import requirements

FORMAT: Final = 1
# how a requirement's tests combine: the first status present wins
PRECEDENCE: Final = (
    "fail",
    "not-observed",
    "known-deviation",
    "pass",
    "skipped",
    "not-applicable",
)
NOT_RUN: Final = ("not-applicable", "skipped", "known-deviation")  # JUnit "skipped"
SPEC_FILES: Final = ("schemas", "profiles", "requirements.yaml", "deviations.yaml")


def spec_profile() -> str:
    """sha256 over the spec data a run judges by (schemas, profiles, requirements)."""
    digest = hashlib.sha256()
    root = specs_root()
    for name in SPEC_FILES:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.relative_to(root).as_posix().encode())
                data = file.read_bytes()
                if file.name == "requirements.yaml":  # a live run's stamp is no spec change
                    data = b"\n".join(
                        line for line in data.splitlines() if b"lastVerified" not in line
                    )
                digest.update(data)
    return digest.hexdigest()


def deviations(target_kind: str) -> list[dict[str, Any]]:
    """The known deviations of ``specs/deviations.yaml`` for a target kind."""
    entries: list[dict[str, Any]] = read_spec_yaml("deviations.yaml")["deviations"]
    return [entry for entry in entries if entry["target"] == target_kind]


def deviation_for(
    found: Sequence[Mapping[str, Any]], requirement: str, version: str | None
) -> Mapping[str, Any] | None:
    for entry in found:
        if entry["requirement"] == requirement and (
            entry["versions"] == "all" or version in entry["versions"]
        ):
            return entry
    return None


def aggregate(tests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per catalog requirement and api-version the run checked."""
    versions = sorted({str(t["apiVersion"]) for t in tests if t.get("apiVersion")})
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for test in tests:
        for rid in test["requirements"]:
            by_key.setdefault((rid, str(test.get("apiVersion"))), []).append(test)
    records: list[dict[str, Any]] = []
    for entry in requirements():
        applies = entry["versions"]
        for version in versions:
            if applies != "all" and version not in applies:
                continue
            checked = by_key.get((entry["id"], version), [])
            record: dict[str, Any] = {
                "record": "requirement",
                "id": entry["id"],
                "level": entry["level"],
                "statement": entry["statement"],
                "apiVersion": version,
                "tests": [t["test"] for t in checked],
                "duration": round(sum(float(t.get("duration", 0)) for t in checked), 4),
            }
            if not checked:
                record.update(status="not-applicable", message="nothing in this run checks it")
            else:
                status = next(s for s in PRECEDENCE if any(t["status"] == s for t in checked))
                deciding = next(t for t in checked if t["status"] == status)
                record.update(status=status, message=deciding.get("message", ""))
                deviation = deciding.get("deviation")
                if deviation:
                    record["deviation"] = deviation
            records.append(record)
    return records


def totals(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for record in records:
        counted[record["status"]] = counted.get(record["status"], 0) + 1
    return dict(sorted(counted.items()))


def write_run(
    folder: Path,
    header: Mapping[str, Any],
    tests: Sequence[Mapping[str, Any]],
    footer: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Write results.jsonl and junit.xml; the requirement records."""
    ordered = sorted(tests, key=lambda t: (t["test"], str(t.get("apiVersion"))))
    checked = aggregate(ordered)
    lines = [
        {"record": "header", "format": FORMAT, **header},
        *({"record": "test", **t} for t in ordered),
        *checked,
        {"record": "footer", **footer, "totals": totals(checked), "tests": totals(ordered)},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / "results.jsonl").write_text(text, encoding="utf-8")
    (folder / "junit.xml").write_bytes(junit(ordered, str(header.get("runId", ""))))
    return checked


def junit(tests: Sequence[Mapping[str, Any]], run_id: str) -> bytes:
    """JUnit XML: a test case per test and api-version, named with its requirement ids."""
    suite = ET.Element(
        "testsuite",
        name=f"callrec conformance {run_id}",
        tests=str(len(tests)),
        failures=str(sum(t["status"] in ("fail", "not-observed") for t in tests)),
        skipped=str(
            sum(t["status"] in ("not-applicable", "skipped", "known-deviation") for t in tests)
        ),
        time=f"{sum(float(t.get('duration', 0)) for t in tests):.3f}",
    )
    for test in tests:
        module, _, name = str(test["test"]).partition("::")
        ids = " ".join(test["requirements"])
        case = ET.SubElement(
            suite,
            "testcase",
            classname=module.removesuffix(".py").replace("/", "."),
            name=f"{ids} {name}",
            time=f"{float(test.get('duration', 0)):.3f}",
        )
        status, message = test["status"], str(test.get("message", ""))
        if status in ("fail", "not-observed"):
            failure = ET.SubElement(case, "failure", message=f"{status}: {message}"[:1000])
            failure.text = message
        elif status in NOT_RUN:
            ET.SubElement(case, "skipped", message=f"{status}: {message}"[:1000])
    written: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return written
