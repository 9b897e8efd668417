"""Name the schema of a payload from its shape, by the rules in ``specs/detect.yaml``."""

from __future__ import annotations

from typing import Any, Final

from callrec._specs import JSON, detection_rules

_MISSING: Final = object()
_TYPES: Final = {"object": dict, "array": list}


def _resolve(payload: Any, pointer: str) -> Any:
    node = payload
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _matches(rule: JSON, payload: Any) -> bool:
    expected_type = rule.get("type")
    if expected_type is not None and not isinstance(payload, _TYPES[expected_type]):
        return False
    if any(_resolve(payload, pointer) is _MISSING for pointer in rule.get("present", ())):
        return False
    if any(_resolve(payload, p) != value for p, value in rule.get("equals", {}).items()):
        return False
    return all(_resolve(payload, p) in values for p, values in rule.get("in", {}).items())


def detect(payload: Any) -> str | None:
    """The name of the schema ``payload`` is shaped like, or ``None`` when none fits.

    Detection looks at discriminating fields only (``eventType``, ``type``, the array
    envelope, metadata keys); it does not validate. Pass the name to `callrec.validate`.
    """
    for rule in detection_rules():
        if _matches(rule, payload):
            return str(rule["schema"])
    return None
