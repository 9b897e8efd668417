"""The callrec emulator: a local Call Recording endpoint for the suites and for app developers.

    from callrec.emulator import serve

    with serve() as connection_string:      # a real server on a loopback port
        ...                                  # point an SDK or the suite at it

Run it from a shell with ``callrec emulator``. Behaviour that the documents leave open is the
emulator's own choice, marked `decision` in ``specs/errors.yaml`` and the requirement catalog.
"""

from callrec.emulator._app import EmulatorApp, build_app
from callrec.emulator._faults import REGISTRY as FAULTS
from callrec.emulator._server import Running, serve
from callrec.emulator._state import WELL_KNOWN_KEY, Settings

__all__ = ["FAULTS", "WELL_KNOWN_KEY", "EmulatorApp", "Running", "Settings", "build_app", "serve"]
