"""Payments and subscriptions: Stripe charges, renewals, plan changes, dunning and churn."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from company import ids
from company.catalog import PLAN_BY_CODE, PLANS
from company.clock import DAY
from company.model import Charge, Person, Refund, Subscription
from company.rand import count, stream, weighted
from company.sim import ledger, people
from company.sim.core import Sim

_BRANDS = ("visa", "mastercard", "amex", "discover")
_FAILURES = ("card_declined", "insufficient_funds", "expired_card")


def charge(
    sim: Sim,
    p: Person,
    amount: int,
    currency: str,
    entity: str,
    ts: int,
    *,
    succeeded: bool = True,
    order_id: int | None = None,
    sub: Subscription | None = None,
) -> Charge:
    people.ensure_stripe(sim, p, ts)
    card = stream(sim.seed, "card", p.pid)
    n = sim.next_id("charge")
    fee = round(amount * 0.029) + 30 if succeeded else 0
    ch = Charge(
        cid=n,
        stripe_id=ids.stripe(sim.seed, "ch", n),
        pid=p.pid,
        amount=amount,
        currency=currency,
        entity=entity,
        ts=ts,
        succeeded=succeeded,
        failure_code=None if succeeded else card.choice(_FAILURES),
        order_id=order_id,
        subscription_id=sub.sid if sub else None,
        invoice_id=ids.stripe(sim.seed, "in", n) if sub else None,
        card_brand=card.choice(_BRANDS),
        card_last4=f"{card.randint(0, 9999):04d}",
        fee=fee,
        updated_ts=ts,
    )
    sim.world.charges.append(ch)
    if succeeded:
        sim.fees[entity] += ledger.to_entity(fee, currency, entity)
        kind, account = ("subscription", "4100") if sub else ("sale", "4000")
        memo = f"Stripe charge {ch.stripe_id}"
        ledger.post(sim, ts, entity, kind, currency, ch.stripe_id, memo, "1010", account, amount, p.pid)
    return ch


def refund(sim: Sim, ch: Charge, amount: int, ts: int, reason: str, restock: bool) -> Refund:
    r = Refund(sim.next_id("refund"), ts, amount, reason, restock)
    ch.refunds.append(r)
    ch.updated_ts = ts
    memo = f"Refund of {ch.stripe_id}"
    ledger.post(sim, ts, ch.entity, "refund", ch.currency, f"re_{r.refund_id}", memo, "4900", "1010", amount, ch.pid)
    return r


def _add_month(ts: int, anchor_day: int) -> int:
    d = datetime.fromtimestamp(ts, UTC)
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return int(d.replace(year=year, month=month, day=min(anchor_day, 28)).timestamp())


def new_subscription(
    sim: Sim, p: Person, plan: str, quantity: int, ts: int, *, opportunity_id: int | None = None
) -> Subscription:
    sid = sim.next_id("subscription")
    anchor = min(28, datetime.fromtimestamp(ts, UTC).day)
    sub = Subscription(
        sid=sid,
        stripe_id=ids.stripe(sim.seed, "sub", sid),
        pid=p.pid,
        plan=plan,
        quantity=quantity,
        created_ts=ts,
        anchor_day=anchor,
        period_start=ts,
        period_end=_add_month(ts, anchor),
        opportunity_id=opportunity_id,
        updated_ts=ts,
    )
    sim.world.subscriptions.append(sub)
    sim.subscriber[p.pid] = sid
    return sub


def mrr(sub: Subscription) -> int:
    return PLAN_BY_CODE[sub.plan].unit_amount * sub.quantity


def setup(sim: Sim) -> None:
    """Subscriptions that already run when the history starts, with their period rolled forward."""
    rng = sim.rng("billing-setup", -1)
    customers = list(sim.active_customers)
    rng.shuffle(customers)
    for pid in sorted(customers[: round(430 * sim.scale)]):
        if pid in sim.subscriber:
            continue
        p = people.person(sim, pid)
        start = max(p.created_ts, sim.t0(0) - rng.randint(5, 400) * DAY)
        plan = weighted(rng, ("basic", "pro"), (0.6, 0.4))
        sub = new_subscription(sim, p, plan, 1, start)
        people.ensure_stripe(sim, p, start)
        roll_forward(sim, sub)


def roll_forward(sim: Sim, sub: Subscription) -> None:
    """Advance a subscription that began before the history to its period current on day 0."""
    while sub.period_end < sim.t0(0):
        sub.period_start, sub.period_end = sub.period_end, _add_month(sub.period_end, sub.anchor_day)
    sub.updated_ts = max(sub.created_ts, sub.period_start)


def step(sim: Sim) -> None:
    rng = sim.rng("billing")
    _renewals(sim, rng)
    _changes(sim, rng)
    _new_subscribers(sim, rng)


def _renewals(sim: Sim, rng: random.Random) -> None:
    """Stripe opens the next period and invoices it; a failed payment is retried daily, then churns."""
    t0, day_end = sim.t0(), sim.t0() + DAY
    for sub in sim.world.subscriptions:
        if sub.status == "past_due" and sub.updated_ts < t0:
            _attempt(sim, rng, sub, t0 + rng.randint(3_600, 30_000))
        elif sub.status == "active" and sub.period_end < day_end:
            if sub.cancel_at_period_end:
                _end(sim, sub, sub.period_end)
                continue
            sub.period_start, sub.period_end = sub.period_end, _add_month(sub.period_end, sub.anchor_day)
            _attempt(sim, rng, sub, max(sub.period_start, t0) + rng.randint(60, 3_600))


def _attempt(sim: Sim, rng: random.Random, sub: Subscription, ts: int) -> None:
    ts = min(ts, sim.t0() + DAY - 1)
    ok = rng.random() > (0.06 if sub.failed_attempts == 0 else 0.4)
    charge(sim, people.person(sim, sub.pid), mrr(sub), "USD", "US", ts, succeeded=ok, sub=sub)
    sub.updated_ts = ts
    if ok:
        sub.status, sub.failed_attempts = "active", 0
    elif sub.failed_attempts >= 2:
        _end(sim, sub, ts)  # dunning gave up: involuntary churn
    else:
        sub.status, sub.failed_attempts = "past_due", sub.failed_attempts + 1


def _end(sim: Sim, sub: Subscription, ts: int) -> None:
    sub.status = "canceled"
    sub.ended_ts = ts
    sub.canceled_ts = sub.canceled_ts or ts
    sub.updated_ts = ts
    sim.subscriber.pop(sub.pid, None)


def _changes(sim: Sim, rng: random.Random) -> None:
    for sub in sim.world.subscriptions:
        if sub.status != "active" or sub.cancel_at_period_end:
            continue
        u = rng.random()
        if u < 0.004:
            ts = sim.at(rng, 7, 22)
            sub.cancel_at_period_end, sub.canceled_ts, sub.updated_ts = True, ts, ts
        elif u < 0.009:
            _change_plan(sim, rng, sub)


def _change_plan(sim: Sim, rng: random.Random, sub: Subscription) -> None:
    ts = sim.at(rng, 7, 22)
    before = sub.plan
    if sub.plan == "team":
        sub.quantity = max(2, sub.quantity + rng.choice((-2, -1, 1, 2, 3)))
    else:
        sub.plan = "pro" if sub.plan == "basic" else "basic"
    sub.plan_changes.append((ts, before, sub.plan))
    sub.updated_ts = ts


def _new_subscribers(sim: Sim, rng: random.Random) -> None:
    for _ in range(count(rng, sim.n(4.5))):
        pid = rng.choice(sim.active_customers)
        if pid in sim.subscriber:
            continue
        p = people.person(sim, pid)
        ts = sim.at(rng, 6, 23)
        plan = weighted(rng, [pl.code for pl in PLANS], [pl.weight for pl in PLANS])
        sub = new_subscription(sim, p, plan, 1, ts)
        charge(sim, p, mrr(sub), "USD", "US", ts + 5, sub=sub)
