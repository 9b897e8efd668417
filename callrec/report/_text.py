"""Text from a results file made safe for HTML, SVG and Markdown.

Everything a results file holds may come from a hostile endpoint (messages quote its answers,
bodies are its bytes): every renderer passes each piece through one of these functions.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Final

# not allowed in XML 1.0 (so not in inline SVG either): C0 controls but tab/LF/CR, lone
# surrogates (json.loads lets "\ud800" through), the two non-characters; and DEL and the C1
# controls, which XML allows but a terminal would obey
_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACE: Final = re.compile(r"\s+")
_MARKDOWN: Final = re.compile(r"([\\`*_\[\]<>|~!])")  # what is special inside a line


def clean(text: str) -> str:
    """The text with characters XML forbids replaced by U+FFFD."""
    return _UNSAFE.sub("\ufffd", text)


def esc(value: object) -> str:
    """Escaped for HTML text and attribute values (and SVG, which is XML)."""
    return html.escape(clean(str(value)), quote=True)


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed, cut at ``limit`` characters with an ellipsis."""
    flat = _SPACE.sub(" ", clean(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def middle(text: str, limit: int) -> str:
    """One line cut in the middle (ids that differ at their end stay apart)."""
    flat = one_line(text, len(text) + 1)
    if len(flat) <= limit:
        return flat
    head = (limit - 1) // 2
    return flat[:head] + "…" + flat[len(flat) - (limit - 1 - head) :]


def md(text: str, limit: int = 300) -> str:
    """One line of Markdown that renders as the literal text (tables stay tables)."""
    return _MARKDOWN.sub(r"\\\1", one_line(text, limit)).replace("&", "&amp;")


def body(value: Any, limit: int) -> str:
    """A request/response/event body as readable text (JSON indented), cut at ``limit``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    text = clean(text)
    if len(text) > limit:
        text = f"{text[:limit]}\n… ({len(text) - limit} more characters)"
    return text


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def milliseconds(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"
