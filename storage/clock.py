"""Injected time. Nothing in the bot reads the system clock except `SystemClock`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests, `--as-of` and the console."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def london_datetime(d: date, hour: int, minute: int = 0, tz: str = "Europe/London") -> datetime:
    """A local wall-clock time on `d`, as aware UTC."""
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


class ShiftedClock:
    """Real time, moved so that it starts at `start`: the console's `--as-of` keeps minutes ticking."""

    def __init__(self, start: datetime, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = start.astimezone(UTC) - self._base.now()

    def now(self) -> datetime:
        return self._base.now() + self._offset


class DayShiftedClock:
    """Real time moved to another date, whole days at a time, keeping the wall-clock time: `ecm-bot jobs run
    --as-of`. Every process run for one date on one real day agrees on the time, and time passes, so a lease
    or back-off one run leaves is judged by the next (or by the live bot's ticker) as it would be at once."""

    def __init__(self, day: date, tz: str, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        zone = ZoneInfo(tz)
        real = self._base.now().astimezone(zone)
        moved = datetime.combine(day, real.time().replace(tzinfo=None), tzinfo=zone)
        self._offset = moved.astimezone(UTC) - real.astimezone(UTC)

    def now(self) -> datetime:
        return self._base.now() + self._offset


def clock_for(as_of: date | None, tz: str, *, ticking: bool = False) -> Clock:
    """The system clock, or `as_of` at 09:30 local time: standing still for jobs, ticking for the console."""
    if as_of is None:
        return SystemClock()
    start = datetime(as_of.year, as_of.month, as_of.day, 9, 30, tzinfo=ZoneInfo(tz))
    return ShiftedClock(start) if ticking else FixedClock(start)
