"""Run the company day by day. `simulate(..., through_day=N)` is a prefix of any longer run."""

from __future__ import annotations

import random
from datetime import date

from company.clock import DAY
from company.model import World
from company.sim import billing, commerce, hr, ledger, marketing, ops, people, sales
from company.sim.core import Sim

_INITIAL_CUSTOMERS = 1_300


def simulate(seed: int, scale: float, start: date, through_day: int) -> World:
    sim = Sim(seed, scale, start)
    _setup(sim)
    for day in range(through_day + 1):
        sim.day = day
        sim.run_pending()
        hr.step(sim)
        people.step(sim)
        sales.step(sim)
        clicks = marketing.step(sim)
        commerce.step(sim, clicks)
        billing.step(sim)
        ops.step(sim)
        ledger.close_day(sim)
        _snapshot(sim)
    sim.world.last_day = through_day
    return sim.world


def _setup(sim: Sim) -> None:
    """The company as it stands the morning the history starts."""
    ops.setup(sim)
    _existing_customers(sim, sim.rng("people-setup", -1))
    sales.setup(sim)
    billing.setup(sim)
    marketing.setup(sim)
    hr.setup(sim)


def _existing_customers(sim: Sim, rng: random.Random) -> None:
    t0 = sim.t0(0)
    moments = sorted(t0 - rng.randint(DAY, 600 * DAY) for _ in range(round(_INITIAL_CUSTOMERS * sim.scale)))
    for ts in moments:
        p = people.new_person(sim, rng, ts)
        if rng.random() < 0.65:
            first_buy = min(t0 - 1, ts + rng.randint(0, 30 * DAY))
            p.prior_orders = rng.randint(1, 6)
            p.prior_spent = p.prior_orders * rng.randint(2_500, 15_000)
            people.ensure_shop(sim, p, first_buy)
            people.ensure_stripe(sim, p, first_buy)
            if p.country in ("US", "CA"):
                people.ensure_netsuite(sim, p, first_buy)


def _snapshot(sim: Sim) -> None:
    world = sim.world
    live = [s for s in world.subscriptions if s.status != "canceled"]
    world.mrr_by_day[sim.day] = (sum(billing.mrr(s) for s in live), len(live))
    counts: dict[str, int] = {}
    for emp in hr.active(sim, sim.day):
        counts[emp.org_code] = counts.get(emp.org_code, 0) + 1
    world.headcount_by_day[sim.day] = dict(sorted(counts.items()))
