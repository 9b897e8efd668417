"""What changed between two api-versions, computed from their profiles and narrowed schemas.

`compare` is the pure core: two profile documents plus, per schema, what each version has of
it (`SchemaFacts`). `changes` feeds it the real profiles and the schemas as narrowed by
`callrec._profiles`; `consecutive` does so for each neighbouring pair of api-versions in
release order. Nothing here restates a version fact: every word comes from ``specs/``.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from callrec._profiles import enum_values, fields, has_schema, schema_document
from callrec._specs import api_versions, error_schema, profile, schema_names

# every kind of entry, in the order they are listed within one operation / schema
KINDS: Final = (
    "operation-added",
    "operation-removed",
    "method-changed",
    "path-changed",
    "request-changed",
    "status-replaced",
    "status-added",
    "status-removed",
    "body-changed",
    "header-added",
    "header-removed",
    "event-added",
    "event-removed",
    "schema-added",
    "schema-removed",
    "property-added",
    "property-removed",
    "required-added",
    "required-removed",
    "enum-added",
    "enum-removed",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two api-versions.

    ``subject`` names what changed: an operation (``PauseRecording``), one of its status codes
    or headers (``StartRecording.202``), an event type, a schema, or a schema's property or
    enum value (``StartCallRecordingRequest.pauseOnStart``). ``before`` and ``after`` hold the
    old and new value where one applies (a path, a method, a body schema); ``None`` otherwise.
    """

    kind: str
    subject: str
    text: str
    before: str | None = None
    after: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "text": self.text,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class VersionChanges:
    """Everything that changed from api-version ``older`` to ``newer``, in a stable order:
    operations (in profile order), then events, then schemas (by name)."""

    older: str
    newer: str
    entries: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "older": self.older,
            "newer": self.newer,
            "changes": [entry.as_dict() for entry in self.entries],
        }


@dataclass(frozen=True, slots=True)
class SchemaFacts:
    """What one api-version has of one schema (all empty when the schema is absent)."""

    present: bool
    properties: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None  # None: not an enum schema


# ----------------------------------------------------------------------------- public


def changes(older: str, newer: str) -> VersionChanges:
    """What changed from api-version ``older`` to ``newer`` (any two supported versions).

    Raises `UnknownApiVersionError` naming the supported versions for any other.
    """
    entries = compare(profile(older), profile(newer), schema_facts(older), schema_facts(newer))
    return VersionChanges(older=older, newer=newer, entries=tuple(entries))


def consecutive(versions: Sequence[str] | None = None) -> list[VersionChanges]:
    """The changes of each neighbouring pair of ``versions`` (default: every supported one),
    taken in release order (`api_versions`) whatever order they are given in."""
    if versions is None:
        chosen = api_versions()
    else:
        for version in versions:
            profile(version)  # unknown versions fail with the supported list
        wanted = set(versions)
        chosen = [version for version in api_versions() if version in wanted]
    return [changes(older, newer) for older, newer in itertools.pairwise(chosen)]


def _refs(node: Any) -> Iterator[str]:
    """The schema names a document node refers to (``X.json``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.endswith(".json"):
                yield value.rsplit("/", 1)[-1].removesuffix(".json")
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _operation_schemas(api_version: str) -> set[str]:
    """The request, success and error body schemas a version's profile names."""
    found = {error_schema(api_version)}
    for operation in profile(api_version)["operations"].values():
        found.update(
            str(s) for s in [operation.get("request"), *operation["success"].values()] if s
        )
    return found


@functools.cache
def reachable(api_version: str) -> frozenset[str]:
    """The schemas a version can put on the wire: its operations' bodies and error body, and
    every free-standing document (events, metadata: schemas no other one refers to and no
    profile uses as an operation body), with what they refer to. A schema only another
    generation's bodies use (CallLocator, in the conversations API) is not part of it."""
    names = schema_names()
    referenced = {ref for name in names for ref in _refs(schema_document(name))}
    # a download's body (the metadata document) stands on its own in every version
    downloads = {
        str(body)
        for v in api_versions()
        for operation in profile(v)["operations"].values()
        if operation.get("contentType")
        for body in operation["success"].values()
        if body
    }
    bodies = set().union(*(_operation_schemas(v) for v in api_versions())) - downloads
    pending = _operation_schemas(api_version) | (set(names) - referenced - bodies)
    found: set[str] = set()
    while pending:
        name = pending.pop()
        if name in found or name not in names or not has_schema(name, api_version):
            continue
        found.add(name)
        pending.update(_refs(schema_document(name, api_version)))
    return frozenset(found)


@functools.cache
def schema_facts(api_version: str) -> dict[str, SchemaFacts]:
    """Every schema as of ``api_version``, reduced to what `compare` looks at (a schema the
    version cannot reach counts as absent)."""
    found: dict[str, SchemaFacts] = {}
    wired = reachable(api_version)
    for name in schema_names():
        if name not in wired:
            found[name] = SchemaFacts(present=False)
            continue
        document = schema_document(name, api_version)
        found[name] = SchemaFacts(
            present=True,
            properties=tuple(fields(name, api_version)),
            required=tuple(document.get("required", ())),
            enum=tuple(enum_values(name, api_version)) if "enum" in document else None,
        )
    return found


# ----------------------------------------------------------------------------- the core


def compare(
    older: Mapping[str, Any],
    newer: Mapping[str, Any],
    older_schemas: Mapping[str, SchemaFacts],
    newer_schemas: Mapping[str, SchemaFacts],
) -> list[Change]:
    """The changes from profile ``older`` to profile ``newer``.

    The profiles are documents as in ``specs/profiles`` (only ``operations`` and ``events`` are
    read); the schema facts are by schema name. A schema missing from one side's facts is taken
    as absent there.
    """
    return [
        *_operations(older.get("operations", {}), newer.get("operations", {})),
        *_events(older.get("events", ()), newer.get("events", ())),
        *_schemas(older_schemas, newer_schemas),
    ]


def _operations(older: Mapping[str, Any], newer: Mapping[str, Any]) -> Iterator[Change]:
    for name in _union(older, newer):
        was, now = older.get(name), newer.get(name)
        if was is None:
            yield Change(
                "operation-added",
                name,
                f"{name} added: {_endpoint(now)}",
                after=_endpoint(now),
            )
        elif now is None:
            yield Change(
                "operation-removed",
                name,
                f"{name} removed (was {_endpoint(was)})",
                before=_endpoint(was),
            )
        else:
            yield from _operation(name, was, now)


def _operation(name: str, was: Mapping[str, Any], now: Mapping[str, Any]) -> Iterator[Change]:
    for key, kind, label in (
        ("method", "method-changed", "method"),
        ("path", "path-changed", "path"),
        ("request", "request-changed", "request body"),
    ):
        before, after = was.get(key), now.get(key)
        if before != after:
            yield Change(
                kind,
                name,
                f"{label} of {name}: {before or 'none'} -> {after or 'none'}",
                before=before,
                after=after,
            )
    yield from _statuses(name, was.get("success", {}), now.get("success", {}))
    headers_was, headers_now = was.get("headers", ()), now.get("headers", ())
    for header in _added(headers_was, headers_now):
        yield Change("header-added", f"{name}.{header}", f"{name} takes header `{header}`")
    for header in _added(headers_now, headers_was):
        yield Change(
            "header-removed", f"{name}.{header}", f"{name} no longer takes header `{header}`"
        )


def _statuses(name: str, was: Mapping[str, Any], now: Mapping[str, Any]) -> Iterator[Change]:
    gone = _added(now, was)
    new = _added(was, now)
    if gone and new:
        before, after = _codes(gone), _codes(new)
        yield Change(
            "status-replaced",
            name,
            f"{name} answers {_or(new)} instead of {_or(gone)}",
            before=before,
            after=after,
        )
    else:
        for code in new:
            yield Change(
                "status-added",
                f"{name}.{code}",
                f"{name} also answers {code} ({_body(now[code])})",
                after=str(code),
            )
        for code in gone:
            yield Change(
                "status-removed",
                f"{name}.{code}",
                f"{name} no longer answers {code}",
                before=str(code),
            )
    for code in was:
        if code in now and was[code] != now[code]:
            yield Change(
                "body-changed",
                f"{name}.{code}",
                f"body of {name} {code}: {_body(was[code])} -> {_body(now[code])}",
                before=was[code],
                after=now[code],
            )


def _events(older: Sequence[str], newer: Sequence[str]) -> Iterator[Change]:
    for event in _added(older, newer):
        yield Change("event-added", event, f"event {event} added")
    for event in _added(newer, older):
        yield Change("event-removed", event, f"event {event} no longer emitted")


def _schemas(
    older: Mapping[str, SchemaFacts], newer: Mapping[str, SchemaFacts]
) -> Iterator[Change]:
    absent = SchemaFacts(present=False)
    for name in sorted(older.keys() | newer.keys()):
        was, now = older.get(name, absent), newer.get(name, absent)
        if was.present != now.present:
            if now.present:
                yield Change("schema-added", name, f"{name} added (absent before)")
            else:
                yield Change("schema-removed", name, f"{name} removed (absent from now on)")
            continue
        if not now.present:
            continue
        for field in _added(was.properties, now.properties):
            yield Change("property-added", f"{name}.{field}", f"`{field}` added to {name}")
        for field in _added(now.properties, was.properties):
            yield Change("property-removed", f"{name}.{field}", f"`{field}` removed from {name}")
        for field in _added(was.required, now.required):
            yield Change("required-added", f"{name}.{field}", f"`{field}` now required in {name}")
        for field in _added(now.required, was.required):
            yield Change(
                "required-removed", f"{name}.{field}", f"`{field}` no longer required in {name}"
            )
        values_was, values_now = was.enum or (), now.enum or ()
        for value in _added(values_was, values_now):
            shown = _value(value)
            yield Change("enum-added", f"{name}.{shown}", f"`{shown}` added to {name}")
        for value in _added(values_now, values_was):
            shown = _value(value)
            yield Change("enum-removed", f"{name}.{shown}", f"`{shown}` removed from {name}")


# ----------------------------------------------------------------------------- helpers


def _union(older: Mapping[str, Any], newer: Mapping[str, Any]) -> list[str]:
    """The keys of ``older`` in its order, then those only ``newer`` has, in its order."""
    return [*older, *(key for key in newer if key not in older)]


def _added(before: Iterable[Any], after: Iterable[Any]) -> list[Any]:
    """What ``after`` has that ``before`` lacks, in ``after``'s order."""
    kept = list(before)
    return [item for item in after if item not in kept]


def _endpoint(operation: Mapping[str, Any] | None) -> str:
    if operation is None:
        return "none"
    return f"{operation.get('method', '?')} {operation.get('path', '?')}"


def _body(schema: Any) -> str:
    return str(schema) if schema else "no body"


def _codes(codes: Sequence[Any]) -> str:
    return ", ".join(str(code) for code in codes)


def _or(codes: Sequence[Any]) -> str:
    shown = [str(code) for code in codes]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
