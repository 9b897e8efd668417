"""The exceptions callrec raises for bad arguments or broken spec data."""

from __future__ import annotations


class SpecError(Exception):
    """The spec data is missing or malformed, or a request names something it lacks."""


class UnknownSchemaError(SpecError, KeyError):
    """A schema name that callrec does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownApiVersionError(SpecError, ValueError):
    """An api-version that callrec has no profile for."""
