"""Read access to callrec's spec data: schemas, version profiles and catalogs, and what
changed between api-versions (`changes`, `consecutive`).

Everything returned is shared and cached: treat it as read-only (copy before changing).
"""

from callrec._changes import Change, VersionChanges, changes, consecutive
from callrec._profiles import enum_values, fields, has_schema, schema_document
from callrec._specs import (
    api_versions,
    error_schema,
    examples,
    profile,
    requirements,
    schema_id,
    schema_names,
    specs_root,
    takes_api_version,
)

__all__ = [
    "Change",
    "VersionChanges",
    "api_versions",
    "changes",
    "consecutive",
    "enum_values",
    "error_schema",
    "examples",
    "fields",
    "has_schema",
    "profile",
    "requirements",
    "schema_document",
    "schema_id",
    "schema_names",
    "specs_root",
    "takes_api_version",
]
