"""How often a source or stream is loaded: one vocabulary for source files, the company generator,
freshness checks, the report's SLA and the scheduler."""

from __future__ import annotations

from enum import StrEnum


class Frequency(StrEnum):
    REAL_TIME = "real-time"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    @property
    def sla_hours(self) -> float:
        """How old a source's newest load may be before it is late: the seed's 2-hour SLA for real-time
        and hourly sources, one period plus slack for the others."""
        return _SLA_HOURS[self]

    @classmethod
    def most_urgent(cls, frequencies: list[Frequency]) -> Frequency:
        """The most frequent of several: a source runs as often as its most urgent stream."""
        order = list(cls)
        return min(frequencies, key=order.index)


_SLA_HOURS = {
    Frequency.REAL_TIME: 2.0,
    Frequency.HOURLY: 2.0,
    Frequency.DAILY: 26.0,
    Frequency.WEEKLY: 8 * 24.0,
    Frequency.MONTHLY: 32 * 24.0,
}
