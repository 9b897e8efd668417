"""Build object strategies from a schema's own field list and required list."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from callrec.specs import fields, schema_document

JSON = dict[str, Any]


def objects(
    schema: str, api_version: str | None, values: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[JSON]:
    """Objects of ``schema`` as of the version: its required fields always, the rest maybe.

    ``values`` gives a strategy per field. A field the version has but ``values`` lacks is
    an error, so a schema that grows a field makes its strategy grow too.
    """
    present = fields(schema, api_version)
    missing = sorted(set(present) - values.keys())
    if missing:
        raise LookupError(f"no strategy for {schema} fields {missing}")
    required = set(schema_document(schema, api_version).get("required", ()))
    return st.fixed_dictionaries(
        {name: values[name] for name in present if name in required},
        optional={name: values[name] for name in present if name not in required},
    )
