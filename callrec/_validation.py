"""Validate payloads against callrec's schemas with jsonschema-rs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import jsonschema_rs

from callrec._profiles import MESSAGE_KEY, schema_document, versioned_schemas
from callrec._specs import JSON, schema_id

VALUE_LIMIT: Final = 80


@dataclass(frozen=True, slots=True)
class Failure:
    """One way a payload breaks its schema.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value (``""`` is the whole
    payload), ``schema_location`` the absolute URI of the failing schema keyword, ``message``
    a plain-words explanation and ``value`` the offending value as compact JSON, truncated.
    """

    pointer: str
    schema_location: str
    message: str
    value: str

    def __str__(self) -> str:
        return f"{self.pointer or '(root)'}: {self.message}"


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _shorten(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


class _Compiled:
    """A compiled validator plus what is needed to explain its failures."""

    __slots__ = ("_documents", "is_valid", "iter_errors")

    def __init__(self, root: JSON, api_version: str | None) -> None:
        documents = versioned_schemas(api_version)
        registry = jsonschema_rs.Registry([(schema_id(key), doc) for key, doc in documents.items()])
        validator = jsonschema_rs.Draft202012Validator(
            root, registry=registry, validate_formats=True
        )
        self._documents = {schema_id(key): doc for key, doc in documents.items()}
        self.is_valid = validator.is_valid
        self.iter_errors = validator.iter_errors

    def failures(self, payload: Any) -> list[Failure]:
        # A keyword reached through two paths (e.g. an envelope checked by two allOf
        # branches) reports the same failure twice; keep the first.
        unique: dict[tuple[str, str, str], Failure] = {}
        for error in self.iter_errors(payload):
            failure = Failure(
                pointer=_pointer(error.instance_path),
                schema_location=str(error.absolute_keyword_location or ""),
                message=self._explain(error),
                value=_shorten(error.instance),
            )
            unique.setdefault((failure.pointer, failure.schema_location, failure.message), failure)
        return list(unique.values())

    def _explain(self, error: Any) -> str:
        """Prefer the schema's own plain-words message for the failing keyword."""
        location = str(error.absolute_keyword_location or "")
        document_uri, _, fragment = location.partition("#")
        node: Any = self._documents.get(document_uri)
        parts = [
            unquote(part).replace("~1", "/").replace("~0", "~") for part in fragment.split("/")[1:]
        ]
        if node is None or not parts:
            return str(error.message)
        keyword = parts.pop()
        for part in parts:
            node = node[int(part)] if isinstance(node, list) else node.get(part)
            if node is None:
                return str(error.message)
        custom = node.get(MESSAGE_KEY, {}) if isinstance(node, dict) else {}
        return str(custom.get(keyword, error.message))


_cache: dict[tuple[str, str | None], _Compiled] = {}


def compiled(schema: str, api_version: str | None) -> _Compiled:
    """The compiled validator of ``schema`` as of ``api_version``, built once per process."""
    validator = _cache.get((schema, api_version))
    if validator is None:
        root = schema_document(schema, api_version)  # unknown names fail, naming the known ones
        validator = _cache.setdefault((schema, api_version), _Compiled(root, api_version))
    return validator


_batch_cache: dict[tuple[str, str | None], _Compiled] = {}


def compiled_batch(schema: str, api_version: str | None) -> _Compiled:
    """A validator for a JSON array whose every element follows ``schema``.

    One call checks a whole batch (an NDJSON region), which avoids a Python-to-Rust round
    trip per payload; callers fall back to `compiled` to explain an invalid batch.
    """
    validator = _batch_cache.get((schema, api_version))
    if validator is None:
        schema_document(schema, api_version)
        root = {"type": "array", "items": {"$ref": schema_id(schema)}}
        validator = _batch_cache.setdefault((schema, api_version), _Compiled(root, api_version))
    return validator


def validate(payload: Any, schema: str, *, api_version: str | None = None) -> list[Failure]:
    """Check ``payload`` against the named schema; return its failures (empty when valid).

    With ``api_version`` the schema is narrowed by that version's profile: fields, enum
    values and whole schemas the version lacks are rejected. Without it, the payload is
    checked against the union of every supported version.
    """
    try:  # the hot path: one dict lookup, one call into Rust
        validator = _cache[schema, api_version]
    except KeyError:
        validator = compiled(schema, api_version)
    if validator.is_valid(payload):
        return []
    return validator.failures(payload)


def is_valid(payload: Any, schema: str, *, api_version: str | None = None) -> bool:
    """True when ``payload`` satisfies the schema; the fast path for bulk checks."""
    try:
        validator = _cache[schema, api_version]
    except KeyError:
        validator = compiled(schema, api_version)
    return bool(validator.is_valid(payload))
