"""Secrets out of everything a run writes: the access key, request signatures, SAS and other
query tokens, bearer tokens.

`Redactor` rewrites text; the plugin runs every failure message, captured output, log record
and results line through it. Patterns stop at characters that end a JSON string or a URL
part, so redacting a JSON document leaves it JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote

MASK: Final = "***"
# name=value pairs whose value is a credential, anywhere (Authorization headers, connection
# strings, SAS tokens) ...
_PAIRS: Final = re.compile(
    r"(?i)\b(sig|signature|accesskey|sharedaccesskey|sharedaccesssignature)=([^&;\s\"'<>\\,)]+)"
)
# ... and in a query only (names too common to mask in prose)
_QUERY: Final = re.compile(
    r"(?i)([?&](?:code|token|key|api[-_]?key|skoid|sktid|skt|ske|sks|skv|saoid|suoid)=)"
    r"[^&#\s\"'<>\\]+"
)
_SCHEMES: Final = re.compile(r"(?i)\b(bearer|sharedkey)\s+([^\s\"']+)")
# loggers whose records carry URLs or headers: the HTTP clients' and the run's own (a filter
# acts on the records of its logger only, not on those its children pass up)
LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "urllib3.connectionpool",
    "schemathesis",
    "callrec.conformance",
)


class Redactor:
    """Replaces known secrets (and anything shaped like one) with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        literal: set[str] = set()
        for secret in secrets:
            if len(secret) >= 8:  # shorter is no key: redacting it would mangle text
                literal |= {secret, quote(secret, safe=""), quote(secret, safe="/")}
        ordered = sorted(literal, key=len, reverse=True)
        self._literal = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __repr__(self) -> str:
        return "Redactor(<secrets>)"

    def __call__(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _PAIRS.sub(lambda m: f"{m.group(1)}={MASK}", text)
        text = _QUERY.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return _SCHEMES.sub(lambda m: f"{m.group(1)} {MASK}", text)


class RedactingFilter(logging.Filter):
    """A log filter that redacts each record's message (it stays a plain string after)."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken record: leave it to logging to report
            return True
        cleaned = self._redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def guard_loggers(redact: Redactor, handlers: Iterable[logging.Handler] = ()) -> RedactingFilter:
    """Redact the records of `LOGGERS` and of ``handlers`` (pytest's own: they see every
    logger's records); returns the filter, for `unguard_loggers`."""
    found = RedactingFilter(redact)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(found)
    for handler in handlers:
        handler.addFilter(found)
    return found


def unguard_loggers(found: logging.Filter, handlers: Iterable[logging.Handler] = ()) -> None:
    for name in LOGGERS:
        logging.getLogger(name).removeFilter(found)
    for handler in handlers:
        handler.removeFilter(found)
