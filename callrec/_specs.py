"""Locate and load the data under ``specs/``: schemas, version profiles, catalogs.

This module is the only place that reads spec files. Everything is loaded lazily and
cached; the returned structures are shared, so callers must treat them as read-only.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from callrec._errors import SpecError, UnknownApiVersionError, UnknownSchemaError

SCHEMA_BASE_URI: Final = "https://callrec.dev/schemas/"

JSON = dict[str, Any]


@functools.cache
def specs_root() -> Path:
    """The folder holding the spec data.

    An installed wheel carries it as package data (``callrec/_specs_data``); a source
    checkout (including an editable install) has it at the repository's ``specs/``.
    """
    packaged = resources.files("callrec") / "_specs_data"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "specs"
    if (checkout / "schemas").is_dir():
        return checkout
    raise SpecError(
        "callrec's spec data is missing: neither the installed package data "
        f"({packaged}) nor a source checkout ({checkout}) has it; reinstall callrec"
    )


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read spec file {path.name}: {exc}") from exc


@functools.cache
def base_schemas() -> dict[str, JSON]:
    """Every schema document by name (the file name without ``.json``), unversioned."""
    folder = specs_root() / "schemas"
    schemas: dict[str, JSON] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            schemas[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpecError(f"cannot read schema {path.name}: {exc}") from exc
    return schemas


def schema_names() -> list[str]:
    """The names of every schema callrec knows, sorted."""
    return sorted(base_schemas())


def schema_id(name: str) -> str:
    """The stable ``$id`` of a schema."""
    return f"{SCHEMA_BASE_URI}{name}.json"


def check_schema_name(name: str) -> None:
    if name not in base_schemas():
        known = ", ".join(schema_names())
        raise UnknownSchemaError(f"unknown schema {name!r}; known schemas: {known}")


@functools.cache
def profiles() -> dict[str, JSON]:
    """Every version profile by api-version, in release order."""
    folder = specs_root() / "profiles"
    found: dict[str, JSON] = {}
    for path in sorted(folder.glob("*.yaml")):
        profile = _read_yaml(path)
        found[str(profile["apiVersion"])] = profile
    return dict(sorted(found.items(), key=lambda item: _release_key(item[0])))


def _release_key(api_version: str) -> tuple[str, bool]:
    # Versions are dates; a preview sorts by its date like any other release.
    return (api_version.removesuffix("-preview"), api_version.endswith("-preview"))


def api_versions() -> list[str]:
    """Every supported api-version, oldest first."""
    return list(profiles())


def profile(api_version: str) -> JSON:
    """The profile of one api-version; raises `UnknownApiVersionError` for others."""
    try:
        return profiles()[api_version]
    except KeyError:
        known = ", ".join(api_versions())
        raise UnknownApiVersionError(
            f"unsupported api-version {api_version!r}; supported: {known}"
        ) from None


WRAPPED_ERROR_SCHEMA: Final = "CommunicationErrorResponse"  # {"error": {...}}: the default


def error_schema(api_version: str) -> str:
    """The schema of the version's error bodies: CommunicationErrorResponse, unless the
    profile names another (the 2021 conversations API answers the error object bare)."""
    return str(profile(api_version).get("errorSchema", WRAPPED_ERROR_SCHEMA))


def takes_api_version(api_version: str) -> bool:
    """Whether the version's requests carry the api-version query parameter (the 2021
    conversations API documents none: its label is never sent)."""
    return profile(api_version).get("apiVersionParameter", True) is not False


def read_spec_yaml(relative: str) -> Any:
    """A YAML file under the spec root, parsed."""
    return _read_yaml(specs_root() / relative)


@functools.cache
def detection_rules() -> list[JSON]:
    """The ordered rules `callrec.detect` applies (``specs/detect.yaml``)."""
    rules: list[JSON] = _read_yaml(specs_root() / "detect.yaml")["rules"]
    return rules


@functools.cache
def requirements() -> list[JSON]:
    """The numbered requirement catalog (``specs/requirements.yaml``)."""
    entries: list[JSON] = _read_yaml(specs_root() / "requirements.yaml")["requirements"]
    return entries


@functools.cache
def examples() -> list[JSON]:
    """The catalog of worked examples (``specs/examples/index.yaml``)."""
    entries: list[JSON] = _read_yaml(specs_root() / "examples" / "index.yaml")["examples"]
    return entries


def example_path(entry: JSON) -> Path:
    return specs_root() / "examples" / str(entry["file"])


def meta_schema(name: str) -> JSON:
    """A schema that describes one of the spec files themselves (``specs/meta/``)."""
    doc: JSON = json.loads((specs_root() / "meta" / f"{name}.schema.json").read_text("utf-8"))
    return doc
