"""callrec: conformance tooling for the Azure Communication Services Call Recording API.

The top-level package is the validation library::

    import callrec

    name = callrec.detect(payload)  # e.g. "RecordingFileStatusUpdatedEventGridEvent"
    for failure in callrec.validate(payload, name, api_version="2025-06-15"):
        print(failure.pointer, failure.message)

`callrec.specs` gives read access to the spec data (schemas, profiles, catalogs).
"""

from callrec._detect import detect
from callrec._errors import SpecError, UnknownApiVersionError, UnknownSchemaError
from callrec._validation import Failure, is_valid, validate
from callrec._version import __version__

__all__ = [
    "Failure",
    "SpecError",
    "UnknownApiVersionError",
    "UnknownSchemaError",
    "__version__",
    "detect",
    "is_valid",
    "validate",
]
