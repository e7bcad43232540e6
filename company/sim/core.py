"""The simulation context shared by every domain step."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from company import clock
from company.catalog import FX_TO_USD, WEEKDAY_FACTOR
from company.model import World
from company.rand import stream

Action = Callable[[], None]


class Sim:
    """Holds the world being built plus counters and the queue of actions scheduled for later days.

    Actions scheduled past the last simulated day simply never run, which is what keeps a shorter
    history an exact prefix of a longer one.
    """

    def __init__(self, seed: int, scale: float, start: date) -> None:
        self.seed = seed
        self.scale = scale
        self.start = start
        self.world = World(seed=seed, scale=scale, start=start, last_day=-1)
        self.pending: dict[int, list[Action]] = defaultdict(list)
        self._counters: dict[str, int] = {}
        self.active_customers: list[int] = []  # pids that can log in and buy
        self.subscriber: dict[int, int] = {}  # pid -> subscription id, while it is live
        self.ad_index: dict[tuple[int, int], int] = {}  # (unit id, day) -> index in world.ad_days
        self.day = -1
        self.shipped_cost: dict[str, int] = defaultdict(int)  # entity -> USD cents shipped today
        self.fees: dict[str, int] = defaultdict(int)  # entity -> fees in entity currency today
        self.ad_spend: dict[str, int] = defaultdict(int)  # platform -> USD cents today

    def rng(self, domain: str, day: int | None = None) -> random.Random:
        return stream(self.seed, "sim", domain, self.day if day is None else day)

    def next_id(self, name: str, first: int = 1) -> int:
        value = self._counters.get(name, first)
        self._counters[name] = value + 1
        return value

    def t0(self, day: int | None = None) -> int:
        return clock.day_start(self.start, self.day if day is None else day)

    def at(self, rng: random.Random, lo_hour: float = 0.0, hi_hour: float = 24.0) -> int:
        """A random instant of the current day between two hours (UTC)."""
        return self.t0() + int(rng.uniform(lo_hour, hi_hour) * clock.HOUR)

    def n(self, base: float) -> float:
        """A daily volume at this scale, with weekday seasonality and gentle growth."""
        weekday = clock.sim_date(self.start, self.day).weekday()
        return base * self.scale * WEEKDAY_FACTOR[weekday] * (1.0 + 0.002 * self.day)

    def later(self, day: int, action: Action) -> None:
        self.pending[day].append(action)

    def run_pending(self) -> None:
        for action in self.pending.pop(self.day, []):
            action()


def to_usd(amount: int, currency: str) -> int:
    return round(amount * FX_TO_USD[currency])


def from_usd(amount_usd: int, currency: str) -> int:
    return round(amount_usd / FX_TO_USD[currency])


def local_price(price_usd: int, currency: str) -> int:
    """A shelf price in the local currency, ending in .99 like a real price list."""
    if currency == "USD":
        return price_usd
    whole = max(1, round(price_usd / FX_TO_USD[currency] / 100))
    return whole * 100 - 1
