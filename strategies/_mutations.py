"""Targeted mutations of valid payloads, each with the JSON pointer a validator must name.

The walk follows the schema alongside the payload through ``$ref``, ``properties``,
``items`` and ``allOf`` only; it does not enter ``anyOf``/``oneOf``/``if`` branches, where a
failure is reported at the combinator rather than at the mutated spot.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from callrec.specs import schema_document

__all__ = ["KINDS", "Mutation", "mutations"]

JSON = dict[str, Any]
KINDS = ("drop required field", "wrong enum case", "wrong type", "above maximum", "bad date")
_WRONG_TYPE = {
    "string": 12345,
    "integer": "12",
    "number": "1.5",
    "boolean": "true",
    "object": [],
    "array": {},
}


@dataclass(frozen=True)
class Mutation:
    """A broken payload, what was done, where, and a word the failure message must contain."""

    payload: Any
    kind: str
    pointer: str
    mentions: str


@dataclass(frozen=True)
class _Spot:
    path: tuple[str | int, ...]
    value: Any
    schema: JSON


def _resolve(schema: JSON, api_version: str | None) -> Iterator[JSON]:
    """The schema and everything it pulls in through $ref and allOf."""
    yield schema
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.endswith(".json"):
        yield from _resolve(
            schema_document(reference.removesuffix(".json"), api_version), api_version
        )
    for part in schema.get("allOf", ()):
        yield from _resolve(part, api_version)


def _spots(
    value: Any, schema: JSON, api_version: str | None, path: tuple[str | int, ...] = ()
) -> Iterator[_Spot]:
    for node in _resolve(schema, api_version):
        yield _Spot(path, value, node)
        if isinstance(value, dict):
            for name, child in node.get("properties", {}).items():
                if name in value and isinstance(child, dict):
                    yield from _spots(value[name], child, api_version, (*path, name))
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                yield from _spots(item, node["items"], api_version, (*path, index))


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join(f"/{part}" for part in path)


def _replace(payload: Any, path: tuple[str | int, ...], new: Any) -> Any:
    broken = copy.deepcopy(payload)
    if not path:
        return new
    target = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return broken


def _drop(payload: Any, path: tuple[str | int, ...], field: str) -> Any:
    broken = copy.deepcopy(payload)
    target = broken
    for part in path:
        target = target[part]
    del target[field]
    return broken


def _candidates(payload: Any, schema: str, api_version: str | None) -> list[Mutation]:
    found: list[Mutation] = []
    for spot in _spots(payload, schema_document(schema, api_version), api_version):
        node, value, where = spot.schema, spot.value, _pointer(spot.path)
        if isinstance(value, dict):
            found += [
                Mutation(_drop(payload, spot.path, field), "drop required field", where, field)
                for field in node.get("required", ())
                if field in value
            ]
        enum = node.get("enum")
        if (
            isinstance(value, str)
            and enum
            and value.swapcase() not in enum
            and value != value.swapcase()
        ):
            found.append(
                Mutation(
                    _replace(payload, spot.path, value.swapcase()), "wrong enum case", where, ""
                )
            )
        declared = node.get("type")
        if isinstance(declared, str) and declared in _WRONG_TYPE:
            found.append(
                Mutation(
                    _replace(payload, spot.path, _WRONG_TYPE[declared]),
                    "wrong type",
                    where,
                    declared,
                )
            )
        if isinstance(value, int) and not isinstance(value, bool) and "maximum" in node:
            found.append(
                Mutation(
                    _replace(payload, spot.path, node["maximum"] + 1),
                    "above maximum",
                    where,
                    "maximum",
                )
            )
        if isinstance(value, str) and node.get("format") == "date-time":
            found.append(
                Mutation(
                    _replace(payload, spot.path, "2024-13-45T25:61:00Z"),
                    "bad date",
                    where,
                    "date-time",
                )
            )
    return found


def mutations(
    payloads: st.SearchStrategy[Any],
    schema: str,
    api_version: str | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> st.SearchStrategy[Mutation]:
    """Draw a valid payload, then one targeted mutation of it (of one of ``kinds``)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown mutation kinds {sorted(unknown)}; known: {KINDS}")
    return (
        payloads.map(lambda p: [m for m in _candidates(p, schema, api_version) if m.kind in kinds])
        .filter(bool)
        .flatmap(st.sampled_from)
    )
