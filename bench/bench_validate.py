"""Validation throughput: callrec against raw jsonschema-rs and python-jsonschema, measured in
the same run on the same versioned schemas; NDJSON file validation through the CLI.

Pinned to one core. Each figure is the best of several repetitions (the least disturbed by
other work on the machine). Prints rates and ratios; it asserts nothing.

    python bench/bench_validate.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import orjson
import referencing

import callrec
from callrec._profiles import versioned_schemas
from callrec._specs import schema_id, specs_root
from callrec.cli import main as cli_main

VERSION = "2025-06-15"
EXAMPLES = specs_root() / "examples"
PAYLOADS = {
    "RecordingFileStatusUpdatedEventGridEvent": json.loads(
        (EXAMPLES / "seeds/002-event-grid-event.json").read_text()
    )[0],
    "RecordingMetadata": json.loads((EXAMPLES / "digest/metadata-unmixed.json").read_text()),
}


def best_rate(work: Callable[[], None], count: int, repeats: int) -> float:
    """Items per second of the fastest of ``repeats`` runs of ``work`` (which does ``count`` items)."""
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - start)
    return count / fastest


def raw_rs(schema: str) -> Any:
    documents = versioned_schemas(VERSION)
    registry = jsonschema_rs.Registry([(schema_id(name), doc) for name, doc in documents.items()])
    return jsonschema_rs.Draft202012Validator(
        documents[schema], registry=registry, validate_formats=True
    )


def python_jsonschema(schema: str) -> jsonschema.Draft202012Validator:
    documents = versioned_schemas(VERSION)
    registry = referencing.Registry().with_resources(
        (schema_id(name), referencing.Resource.from_contents(doc))
        for name, doc in documents.items()
    )
    return jsonschema.Draft202012Validator(
        documents[schema],
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _rates(schema: str, payload: Any, count: int, repeats: int) -> tuple[float, float, float]:
    assert callrec.validate(payload, schema, api_version=VERSION) == []
    rs = raw_rs(schema)
    ref = python_jsonschema(schema)
    assert rs.is_valid(payload)
    assert ref.is_valid(payload)
    ours = best_rate(
        lambda: [callrec.validate(payload, schema, api_version=VERSION) for _ in range(count)],
        count,
        repeats,
    )
    raw = best_rate(lambda: [rs.is_valid(payload) for _ in range(count)], count, repeats)
    slow_count = max(count // 50, 100)
    py = best_rate(
        lambda: [ref.is_valid(payload) for _ in range(slow_count)], slow_count, max(repeats // 2, 1)
    )
    return ours, raw, py


def bench_dicts(count: int, repeats: int) -> None:
    print(f"validating one payload {count:,} times (best of {repeats}), api-version {VERSION}")
    print(
        f"{'payload':44} {'callrec/s':>12} {'raw rs/s':>12} {'py-jsonschema/s':>16} {'vs raw':>7} {'vs py':>7}"
    )
    for schema, payload in PAYLOADS.items():
        ours, raw, py = _rates(schema, payload, count, repeats)
        print(
            f"{schema:44} {ours:12,.0f} {raw:12,.0f} {py:16,.0f} {ours / raw:7.2f} {ours / py:6.0f}x"
        )
    print("targets: callrec >= 0.70 of raw jsonschema-rs, >= 50x python-jsonschema\n")


def bench_ndjson(lines: int, repeats: int) -> None:
    schema = "RecordingFileStatusUpdatedEventGridEvent"
    payload = PAYLOADS[schema]
    line = orjson.dumps(payload)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.ndjson"
        path.write_bytes((line + b"\n") * lines)
        size = path.stat().st_size

        def cli(*extra: str) -> Callable[[], None]:
            def work() -> None:
                with contextlib.redirect_stderr(io.StringIO()) as err:
                    status = cli_main(["validate", *extra, str(path)])
                assert status == 0, err.getvalue()

            return work

        validator = raw_rs(schema)

        def floor() -> (
            None
        ):  # the least any validator of this file must do: parse and check each line
            with path.open("rb") as handle:
                for raw in handle:
                    validator.is_valid(orjson.loads(raw))

        named = best_rate(cli("--schema", schema, "--api-version", VERSION), lines, repeats)
        detected = best_rate(cli(), lines, repeats)
        reference = best_rate(floor, lines, repeats)
    print(
        f"NDJSON file: {lines:,} events of {len(line):,} bytes ({size / 2**20:,.0f} MiB), best of {repeats}"
    )
    print(
        f"  callrec validate --schema      {named:10,.0f} events/s  {named / reference:5.2f}x the per-line floor"
    )
    print(
        f"  callrec validate (--detect)    {detected:10,.0f} events/s  {detected / reference:5.2f}x"
    )
    print(
        f"  floor: orjson + jsonschema-rs per line {reference:10,.0f} events/s (reference, same run)"
    )
    print("target: >= 100,000 events/s on one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, for a smoke run")
    arguments = parser.parse_args()
    with contextlib.suppress(AttributeError, OSError):  # not every platform can pin
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    count, lines, repeats = (2_000, 20_000, 2) if arguments.quick else (20_000, 200_000, 5)
    bench_dicts(count, repeats)
    bench_ndjson(lines, repeats)


if __name__ == "__main__":
    main()
