"""Things to do at a time on the emulator clock (publish an event when files are ready, ...)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class _Timer:
    due: float
    sequence: int
    action: Callable[[], None] = field(compare=False)


class Timers:
    """A heap of actions by due time; `run_due` runs those whose time has come, in order."""

    def __init__(self) -> None:
        self._heap: list[_Timer] = []
        self._sequence = itertools.count()

    def at(self, due: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, _Timer(due, next(self._sequence), action))

    def next_due(self) -> float | None:
        return self._heap[0].due if self._heap else None

    def run_due(self, now: float) -> int:
        ran = 0
        while self._heap and self._heap[0].due <= now:
            heapq.heappop(self._heap).action()
            ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()
