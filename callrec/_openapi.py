"""Generate an OpenAPI 3.1 document per api-version from the schemas and the profiles.

Inputs are data only: ``specs/operations.yaml`` (what does not vary by version), the
version's profile (methods, paths, success codes, events) and the versioned schemas.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Final

from callrec._profiles import fields, versioned_schemas
from callrec._specs import (
    JSON,
    api_versions,
    error_schema,
    profile,
    read_spec_yaml,
    takes_api_version,
)

_REF: Final = re.compile(r"^([A-Za-z0-9]+)\.json$")
COMPONENTS: Final = "#/components/schemas/"
_PATH_PARAMETER: Final = re.compile(r"\{([A-Za-z]+)\}")


@functools.cache
def _operations() -> JSON:
    facts: JSON = read_spec_yaml("operations.yaml")
    return facts


def _rewrite(node: Any, used: set[str]) -> Any:
    """Copy a schema node with file references turned into component references."""
    if isinstance(node, dict):
        copy = {}
        for key, value in node.items():
            if key in ("$id", "$schema"):
                continue
            if key == "$ref" and isinstance(value, str) and (match := _REF.match(value)):
                used.add(match.group(1))
                copy[key] = COMPONENTS + match.group(1)
            else:
                copy[key] = _rewrite(value, used)
        return copy
    if isinstance(node, list):
        return [_rewrite(item, used) for item in node]
    return node


def _components(roots: set[str], api_version: str) -> JSON:
    documents = versioned_schemas(api_version)
    out: JSON = {}
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in out:
            continue
        used: set[str] = set()
        out[name] = _rewrite(documents[name], used)
        pending.extend(sorted(used - out.keys()))
    return dict(sorted(out.items()))


def _json_body(schema: str, description: str) -> JSON:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": COMPONENTS + schema}}},
    }


def _parameter(name: str) -> JSON:
    facts = dict(_operations()["parameters"][name])
    schema: JSON = {"type": "string"}
    if "format" in facts:
        schema["format"] = facts.pop("format")
    return {"name": name, **facts, "schema": schema}


def _link_parameters(
    links: JSON, operation: JSON, body: str | None, api_version: str
) -> dict[str, str]:
    """A link's parameters: the recording id where this version's body names it (the
    first of ``recordingId`` and its ``or`` alternatives the body schema has), and the
    conversation of the request's path where the path has one."""
    expression = str(links["recordingId"])
    prefix = "$response.body#/"
    if body and expression.startswith(prefix):
        present = fields(body, api_version)
        for candidate in [expression, *links.get("or", ())]:
            if candidate.removeprefix(prefix) in present:
                expression = str(candidate)
                break
    parameters = {"recordingId": expression}
    if "{conversationId}" in operation["path"]:
        parameters["conversationId"] = "$request.path.conversationId"
    return parameters


def build(api_version: str) -> JSON:
    """The OpenAPI 3.1 document of one api-version."""
    version_profile = profile(api_version)
    facts = _operations()
    errors = error_schema(api_version)
    roots = {errors}
    paths: JSON = {}
    versioned = takes_api_version(api_version)
    for operation_id, operation in version_profile["operations"].items():
        op_facts = facts["operations"][operation_id]
        parameters = [{"$ref": "#/components/parameters/api-version"}] if versioned else []
        parameters += [
            {"$ref": f"#/components/parameters/{name}"}
            for name in _PATH_PARAMETER.findall(operation["path"])
        ]
        parameters += [
            {"$ref": f"#/components/parameters/{name}"} for name in operation.get("headers", ())
        ]
        responses: JSON = {}
        for status, body in operation["success"].items():
            headers = {
                header: {"description": text, "schema": {"type": "string"}}
                for header, text in facts["responseHeaders"].get(operation_id, {}).items()
            }
            response: JSON = (
                _json_body(body, "Success.") if body else {"description": "Success, no body."}
            )
            if operation.get("media"):
                response = {
                    "description": "The recorded media.",
                    "content": {"application/octet-stream": {"schema": {}}},
                }
            if body:
                roots.add(body)
            if headers:
                response["headers"] = headers
            links = op_facts.get("links")
            if links:
                response["links"] = {
                    target: {
                        "operationId": target,
                        "parameters": _link_parameters(links, operation, body, api_version),
                    }
                    for target in links["to"]
                    if target in version_profile["operations"]
                }
            responses[status] = response
        for status in op_facts["errors"]:
            responses[status] = {"$ref": f"#/components/responses/{status}"}
        entry: JSON = {
            "operationId": operation_id,
            "summary": op_facts["summary"],
            "parameters": parameters,
            "responses": responses,
        }
        if "request" in operation:
            roots.add(operation["request"])
            entry["requestBody"] = {
                "required": True,
                **_json_body(operation["request"], "The request."),
            }
        paths.setdefault(operation["path"], {})[operation["method"].lower()] = entry
    webhooks: JSON = {}
    for event in version_profile.get("events", ()):
        hook = facts["webhooks"].get(event)
        if hook and hook["name"] not in webhooks:
            roots.add(hook["body"])
            webhooks[hook["name"]] = {
                "post": {
                    "summary": hook["summary"],
                    "requestBody": {
                        "required": True,
                        **_json_body(hook["body"], "The delivered events."),
                    },
                    "responses": {"200": {"description": "Received."}},
                }
            }
    security = facts["security"]
    info = facts["info"]
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": info["title"],
            "version": api_version,
            "description": f"{info['description']} Profile: {version_profile['summary']}",
        },
        "servers": [{"url": info["server"]}],
        "security": [{security["name"]: []}],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "securitySchemes": {
                security["name"]: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": security["description"],
                }
            },
            "parameters": {
                name: _parameter(name)
                for name in facts["parameters"]
                if f'"#/components/parameters/{name}"' in json.dumps(paths)
            },
            "responses": {
                status: _json_body(errors, text) for status, text in facts["errorStatuses"].items()
            },
            "schemas": _components(roots, api_version),
        },
    }


def render_all() -> dict[str, str]:
    """File name -> text of every OpenAPI document, as ``callrec specs build`` writes them."""
    return {
        f"{version}.json": json.dumps(build(version), indent=2, ensure_ascii=False) + "\n"
        for version in api_versions()
    }
