"""Narrow the union schemas to one api-version, as its profile says.

The schemas under ``specs/schemas`` describe every version at once. A profile lists, per
schema, the properties and enum values a version has, the fields it additionally requires,
or that the version lacks the schema entirely. Applying it yields a set of documents that
validate a payload *as of* that version. Removed parts are replaced with a schema that
always fails and carries a plain-words message, so a failure says "not part of
api-version X" rather than "False schema does not allow".
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from callrec._specs import JSON, base_schemas, check_schema_name, profile

MESSAGE_KEY = "x-callrec-message"


def _never(message: str) -> JSON:
    return {"not": {}, MESSAGE_KEY: {"not": message}}


def _narrow(name: str, doc: JSON, rule: Any, api_version: str) -> JSON:
    narrowed: JSON
    if rule == "absent":
        narrowed = {
            key: doc[key] for key in ("$schema", "$id", "title", "description") if key in doc
        }
        narrowed.update(_never(f"{name} does not exist in api-version {api_version}"))
        return narrowed
    narrowed = copy.deepcopy(doc)
    if "properties" in rule:
        kept = set(rule["properties"])
        for field in narrowed.get("properties", {}):
            if field not in kept:
                narrowed["properties"][field] = _never(
                    f"`{field}` is not part of {name} in api-version {api_version}"
                )
    if "required" in rule:
        narrowed["required"] = sorted({*narrowed.get("required", ()), *rule["required"]})
    if "enum" in rule:
        narrowed["enum"] = list(rule["enum"])
    return narrowed


@functools.cache
def versioned_schemas(api_version: str | None) -> dict[str, JSON]:
    """Every schema document as of ``api_version`` (``None``: the unversioned union)."""
    schemas = base_schemas()
    if api_version is None:
        return schemas
    rules = profile(api_version).get("schemas", {})
    return {
        name: _narrow(name, doc, rules[name], api_version) if name in rules else doc
        for name, doc in schemas.items()
    }


def _is_never(node: Any) -> bool:
    return isinstance(node, dict) and node.get("not") == {} and MESSAGE_KEY in node


def schema_document(schema: str, api_version: str | None = None) -> JSON:
    """The schema document as of ``api_version`` (shared: treat as read-only)."""
    check_schema_name(schema)
    if api_version is not None:
        profile(api_version)  # raises UnknownApiVersionError naming the supported ones
    return versioned_schemas(api_version)[schema]


def fields(schema: str, api_version: str | None = None) -> list[str]:
    """The properties ``schema`` has as of ``api_version``, in schema order."""
    document = schema_document(schema, api_version)
    return [name for name, node in document.get("properties", {}).items() if not _is_never(node)]


def enum_values(schema: str, api_version: str | None = None) -> list[Any]:
    """The enum values of an enum schema as of ``api_version``."""
    values: list[Any] = schema_document(schema, api_version)["enum"]
    return values


def has_schema(schema: str, api_version: str | None = None) -> bool:
    """False when the version's profile marks ``schema`` absent."""
    return not _is_never(schema_document(schema, api_version))
