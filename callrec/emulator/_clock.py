"""The emulator's clock: wall time plus an offset that ``POST /emulator/clock:advance`` grows."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """POSIX seconds on the emulator's clock."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    @staticmethod
    def iso(moment: float) -> str:
        """RFC 3339 with seven fractional digits and Z, as the service writes times."""
        stamp = datetime.fromtimestamp(moment, UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
