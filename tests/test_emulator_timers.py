"""The emulator's timers run actions in due order, only once their time has come."""

from callrec.emulator._timers import Timers


def test_timers_run_in_due_order_when_due() -> None:
    timers = Timers()
    ran: list[str] = []
    timers.at(5.0, lambda: ran.append("b"))
    timers.at(1.0, lambda: ran.append("a"))
    timers.at(5.0, lambda: ran.append("c"))  # same time: first scheduled runs first
    assert timers.next_due() == 1.0
    assert timers.run_due(0.5) == 0
    assert timers.run_due(1.0) == 1
    assert ran == ["a"]
    assert timers.run_due(10.0) == 2
    assert ran == ["a", "b", "c"]
    assert timers.next_due() is None


def test_clear_forgets_everything() -> None:
    timers = Timers()
    timers.at(1.0, lambda: None)
    timers.clear()
    assert timers.next_due() is None
    assert timers.run_due(99.0) == 0
