"""Storefront: sessions on web and mobile, orders, payment, fulfilment, cancellations, refunds, reviews."""

from __future__ import annotations

import random

from company import ids
from company.catalog import COUNTRY_BY_CODE, PARTNERS
from company.clock import DAY, HOUR
from company.model import Campaign, Line, Order, Person, Review, Session, UserEvent
from company.rand import count, weighted
from company.sim import billing, marketing, ops, people
from company.sim.core import Sim, local_price

_ORDERS_PER_DAY = 132.0
_ORGANIC_SESSIONS_PER_DAY = 95.0
_ORGANIC = (("google", "organic"), ("(direct)", "(none)"), ("newsletter", "email"), ("instagram", "social"))
_PLATFORMS = {"google": (0.8, 0.1, 0.1), "facebook": (0.3, 0.4, 0.3), "organic": (0.6, 0.25, 0.15)}
_CARRIERS = {"US": ("UPS", "FedEx", "USPS"), "EU": ("DHL", "PostNL", "Royal Mail")}
_REVIEW_TITLES = {5: "Love it", 4: "Very good", 3: "It's okay", 2: "Disappointed", 1: "Would not buy again"}


def step(sim: Sim, clicks: list[tuple[int, Campaign, int]]) -> None:
    rng = sim.rng("commerce")
    known = len(sim.active_customers)  # partner orders come from people who existed this morning
    catalogue = _catalogue(sim)
    sessions = [_paid_session(sim, rng, ts, camp, unit, catalogue) for ts, camp, unit in clicks]
    sessions += [_organic_session(sim, rng, catalogue) for _ in range(count(rng, sim.n(_ORGANIC_SESSIONS_PER_DAY)))]
    sessions.sort(key=lambda s: (s.start_ts, s.device_id))
    converting = _pick_converting(rng, sessions, count(rng, sim.n(_ORDERS_PER_DAY * 0.93)))
    for s in sessions:
        s.sess_id = sim.next_id("session", 1_000_001)
        _play(sim, rng, s, id(s) in converting, catalogue)
        sim.world.sessions.append(s)
    for _ in range(count(rng, sim.n(_ORDERS_PER_DAY * 0.07))):
        _partner_order(sim, rng, catalogue, known)


def _catalogue(sim: Sim) -> tuple[list[int], list[float]]:
    """Active products with a long-tail popularity (cumulative weights for rng.choices)."""
    active = [p.product_id for p in sim.world.products if p.active]
    cum, total = [], 0.0
    for rank in range(len(active)):
        total += 1.0 / (rank + 1) ** 0.7
        cum.append(total)
    return active, cum


def _pages(rng: random.Random, catalogue: tuple[list[int], list[float]]) -> list[int]:
    active, cum = catalogue
    return rng.choices(active, cum_weights=cum, k=rng.choice((1, 1, 1, 1, 2, 3)))


def _session(sim: Sim, rng: random.Random, ts: int, kind: str, catalogue: tuple[list[int], list[float]]) -> Session:
    platform = weighted(rng, ("web", "ios", "android"), _PLATFORMS[kind])
    pid = rng.choice(sim.active_customers) if rng.random() < 0.45 else None
    p = people.person(sim, pid) if pid else None
    country = p.country if p else weighted(rng, ("US", "CA", "GB", "DE", "FR", "NL"), (60, 8, 12, 8, 7, 5))
    city = p.city if p else rng.choice(COUNTRY_BY_CODE[country].cities)[0]
    device = p.device_id if p else f"{rng.getrandbits(64):016x}"
    late = platform != "web" and rng.random() < 0.04  # offline phones flush their queue a day later
    return Session(
        sess_id=0,
        pid=pid,
        device_id=device,
        platform=platform,
        start_ts=ts,
        pages=_pages(rng, catalogue),
        source="",
        medium="",
        campaign_id=None,
        unit_id=None,
        country=country,
        city=city,
        arrival_day=sim.day + 1 if late else sim.day,
        logged_in=pid is not None,
    )


def _paid_session(
    sim: Sim, rng: random.Random, ts: int, camp: Campaign, unit: int, catalogue: tuple[list[int], list[float]]
) -> Session:
    s = _session(sim, rng, ts, camp.platform, catalogue)
    s.source, s.medium = ("google", "cpc") if camp.platform == "google" else ("facebook", "paid_social")
    s.campaign_id, s.unit_id = camp.camp_id, unit
    return s


def _organic_session(sim: Sim, rng: random.Random, catalogue: tuple[list[int], list[float]]) -> Session:
    s = _session(sim, rng, sim.at(rng, 0, 23.5), "organic", catalogue)
    s.source, s.medium = rng.choice(_ORGANIC)
    return s


def _pick_converting(rng: random.Random, sessions: list[Session], k: int) -> set[int]:
    """Weighted sampling without replacement (Efraimidis-Spirakis): paid clicks convert more often."""
    keyed = sorted(
        ((rng.random() ** (1.0 / (1.6 if s.campaign_id else 1.0)), i) for i, s in enumerate(sessions)),
        reverse=True,
    )
    return {id(sessions[i]) for _, i in keyed[:k]}


def _play(sim: Sim, rng: random.Random, s: Session, converts: bool, catalogue: tuple[list[int], list[float]]) -> None:
    t = s.start_ts + 20 + 45 * len(s.pages)
    if converts:
        p = _buyer(sim, rng, s)
        s.added_to_cart = True
        order = place_order(sim, rng, p, min(t + 90, sim.t0() + DAY - 1), s, catalogue)
        s.order_id = order.oid
        marketing.record_conversion(sim, s, order)
        t += 120
    else:
        s.added_to_cart = rng.random() < 0.2
        if s.pid is None and rng.random() < 0.03:
            p = people.new_person(sim, rng, t)
            s.pid, s.signed_up, s.logged_in = p.pid, True, True
    s.end_ts = t + 30
    if s.logged_in and s.pid is not None and not s.signed_up:
        sim.world.user_events.append(UserEvent(s.start_ts + 5, s.pid, "logged_in", sim.day, s.sess_id))


def _buyer(sim: Sim, rng: random.Random, s: Session) -> Person:
    if s.pid is not None:
        return people.person(sim, s.pid)
    if rng.random() < 0.3:
        p = people.new_person(sim, rng, s.start_ts + 30)
        s.signed_up = True
    else:
        p = people.person(sim, rng.choice(sim.active_customers))
    s.pid, s.logged_in = p.pid, True
    s.country, s.city, s.device_id = p.country, p.city, p.device_id
    return p


def _partner_order(sim: Sim, rng: random.Random, catalogue: tuple[list[int], list[float]], known: int) -> None:
    ts = sim.at(rng, 0, 23.8)
    if rng.random() < 0.3:
        p = people.new_person(sim, rng, ts)
    else:
        p = people.person(sim, rng.choice(sim.active_customers[:known]))
    order = place_order(sim, rng, p, ts, None, catalogue)
    order.channel = "partner"
    order.partner_id = weighted(rng, [pid for pid, _, _ in PARTNERS], [w for _, _, w in PARTNERS])


def _lines(
    rng: random.Random, sim: Sim, seed_pages: list[int], currency: str, catalogue: tuple[list[int], list[float]]
) -> list[Line]:
    chosen: list[int] = []
    for product_id in [*seed_pages[:1], *_pages(rng, catalogue)][: rng.choice((1, 1, 1, 2, 2, 3))]:
        if product_id not in chosen:
            chosen.append(product_id)
    products = sim.world.products
    return [
        Line(pid, 1 if rng.random() < 0.82 else 2, local_price(products[pid - 1].price, currency)) for pid in chosen
    ]


def place_order(
    sim: Sim, rng: random.Random, p: Person, ts: int, s: Session | None, catalogue: tuple[list[int], list[float]]
) -> Order:
    country = COUNTRY_BY_CODE[p.country]
    lines = _lines(rng, sim, s.pages if s else [], country.currency, catalogue)
    subtotal = sum(line.quantity * line.unit_price for line in lines)
    discount = round(subtotal * 0.1) if rng.random() < 0.12 else 0
    shipping = 0 if subtotal - discount >= 7_500 else 595
    oid = sim.next_id("order")
    guest = p.shop_id is None and rng.random() < 0.08
    if not guest:
        people.ensure_shop(sim, p, ts)
    if country.entity == "US":
        people.ensure_netsuite(sim, p, ts)
    warehouse = "WH-EU" if country.entity == "EU" else rng.choice(("WH-EAST", "WH-WEST"))
    order = Order(
        oid=oid,
        number=1000 + oid,
        pid=p.pid,
        ts=ts,
        currency=country.currency,
        entity=country.entity,
        lines=lines,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        total=subtotal - discount + shipping,
        channel=("web" if s.platform == "web" else "mobile") if s else "partner",
        session_id=s.sess_id if s else None,
        campaign_id=s.campaign_id if s else None,
        warehouse=warehouse,
        guest=guest,
        city=p.city,
        region=p.region,
        updated_ts=ts,
    )
    sim.world.orders.append(order)
    p.orders.append(oid)
    _pay(sim, rng, order, p)
    for line in lines:
        ops.reserve(sim, line.product_id, warehouse, line.quantity, ts)
    _schedule_after_sale(sim, rng, order)
    return order


def _pay(sim: Sim, rng: random.Random, order: Order, p: Person) -> None:
    ts = order.ts
    if rng.random() < 0.025:  # first card declined, the customer retries with another
        failed = billing.charge(
            sim, p, order.total, order.currency, order.entity, ts, succeeded=False, order_id=order.oid
        )
        order.charge_ids.append(failed.cid)
        ts = min(ts + rng.randint(30, 300), sim.t0() + DAY - 1)
    ok = billing.charge(sim, p, order.total, order.currency, order.entity, ts, order_id=order.oid)
    order.charge_ids.append(ok.cid)
    order.updated_ts = ts


def _schedule_after_sale(sim: Sim, rng: random.Random, order: Order) -> None:
    if rng.random() < 0.012:
        _cancel(sim, order, min(order.ts + rng.randint(600, 4 * HOUR), sim.t0() + DAY - 1))
        return
    sim.later(sim.day + rng.choice((1, 1, 1, 2)), lambda: _fulfil(sim, order))
    if rng.random() < 0.045:
        full = rng.random() < 0.6
        sim.later(sim.day + rng.randint(3, 12), lambda: _refund(sim, order, full))
    if rng.random() < 0.08:
        sim.later(sim.day + rng.randint(4, 14), lambda: _review(sim, order))


def _paid_charge(sim: Sim, order: Order) -> int:
    return next(cid for cid in reversed(order.charge_ids) if sim.world.charges[cid - 1].succeeded)


def _cancel(sim: Sim, order: Order, ts: int) -> None:
    order.cancelled_ts = order.updated_ts = ts
    for line in order.lines:
        ops.reserve(sim, line.product_id, order.warehouse, -line.quantity, ts)
    ch = sim.world.charges[_paid_charge(sim, order) - 1]
    order.refunds.append(billing.refund(sim, ch, order.total, ts, "requested_by_customer", False))


def _fulfil(sim: Sim, order: Order) -> None:
    rng = sim.rng(f"fulfil-{order.oid}")
    ts = sim.at(rng, 8, 20)
    order.fulfilled_ts = order.updated_ts = ts
    order.carrier = rng.choice(_CARRIERS[order.entity])
    order.tracking = ids.stripe(sim.seed, "trk", order.oid)[4:].upper()
    for line in order.lines:
        ops.reserve(sim, line.product_id, order.warehouse, -line.quantity, ts)
        ops.move(sim, line.product_id, order.warehouse, "SHIP", -line.quantity, f"#{order.number}", ts)


def _refund(sim: Sim, order: Order, full: bool) -> None:
    if order.cancelled_ts or order.fulfilled_ts is None:
        return
    rng = sim.rng(f"refund-{order.oid}")
    ts = sim.at(rng, 9, 21)
    biggest = max(order.lines, key=lambda line: line.unit_price)
    remaining = order.total - order.refunded
    amount = remaining if full else min(biggest.unit_price, remaining)
    if amount <= 0:
        return
    ch = sim.world.charges[_paid_charge(sim, order) - 1]
    order.refunds.append(billing.refund(sim, ch, amount, ts, "requested_by_customer", full))
    order.updated_ts = ts
    if full:
        for line in order.lines:
            ops.move(sim, line.product_id, order.warehouse, "RETURN", line.quantity, f"#{order.number}", ts)


def _review(sim: Sim, order: Order) -> None:
    rng = sim.rng(f"review-{order.oid}")
    rating = weighted(rng, (5, 4, 3, 2, 1), (45, 30, 12, 7, 6))
    ts = sim.at(rng, 7, 23)
    rid = sim.next_id("review")
    product_id = order.lines[0].product_id
    name = sim.world.products[product_id - 1].name
    body = f"{_REVIEW_TITLES[rating]}. The {name} {'met' if rating >= 3 else 'did not meet'} my expectations."
    review = Review(rid, product_id, order.pid, order.oid, rating, _REVIEW_TITLES[rating], body, ts, ts)
    sim.world.reviews.append(review)
    if rng.random() < 0.04:
        sim.later(sim.day + rng.randint(1, 4), lambda: _moderate(sim, review))


def _moderate(sim: Sim, review: Review) -> None:
    review.deleted_ts = sim.at(sim.rng(f"moderate-{review.rid}"), 10, 16)
