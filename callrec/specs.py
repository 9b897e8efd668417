"""Read access to callrec's spec data: schemas, version profiles and catalogs.

Everything returned is shared and cached: treat it as read-only (copy before changing).
"""

from callrec._specs import (
    api_versions,
    examples,
    profile,
    requirements,
    schema_id,
    schema_names,
    specs_root,
)
from callrec._validation import schema_document

__all__ = [
    "api_versions",
    "examples",
    "profile",
    "requirements",
    "schema_document",
    "schema_id",
    "schema_names",
    "specs_root",
]
