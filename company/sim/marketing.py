"""Paid acquisition: Google Ads and Facebook Ads campaigns whose clicks become site sessions."""

from __future__ import annotations

import random

from company.model import AdDay, AdUnit, Campaign, Order, Session
from company.rand import count
from company.sim.core import Sim, to_usd

_GOOGLE = (
    ("Brand", "SEARCH"),
    ("Generic Outdoor", "SEARCH"),
    ("Footwear", "SHOPPING"),
    ("Apparel", "SHOPPING"),
    ("Remarketing", "DISPLAY"),
    ("All Products", "PERFORMANCE_MAX"),
)
_FACEBOOK = (
    ("Prospecting - Lookalike", "OUTCOME_SALES"),
    ("Retargeting - Cart Abandoners", "OUTCOME_SALES"),
    ("Winter Collection Launch", "OUTCOME_TRAFFIC"),
    ("Trail Club Membership", "OUTCOME_LEADS"),
)
_GEOS = ("US", "CA", "UK", "EU")
_PAID_CLICKS_PER_DAY = 100.0


def setup(sim: Sim) -> None:
    rng = sim.rng("marketing-setup", -1)
    for platform, templates, share in (("google", _GOOGLE, 6), ("facebook", _FACEBOOK, 4)):
        for i in range(max(1, round(share * sim.scale))):
            _new_campaign(sim, rng, platform, templates[i % len(templates)], _GEOS[(i // len(templates)) % 4])


def _new_campaign(sim: Sim, rng: random.Random, platform: str, template: tuple[str, str], geo: str) -> None:
    camp_id = sim.next_id("campaign")
    created = sim.t0(-rng.randint(20, 200)) + rng.randint(0, 86_399)
    theme, kind = template
    google = platform == "google"
    camp = Campaign(
        camp_id=camp_id,
        platform=platform,
        ext_id=(20_100_000_000 if google else 120_200_000_000_000) + camp_id * 7_777,
        name=f"NW | {kind.title().replace('_', ' ')} | {theme} | {geo}" if google else f"{theme} - {geo}",
        channel=kind if google else "FACEBOOK",
        objective=kind if not google else "SALES",
        daily_budget=rng.choice((5_000, 10_000, 15_000, 25_000)),
        cpc=rng.randint(45, 180),
        created_ts=created,
        updated_ts=created,
    )
    sim.world.campaigns.append(camp)
    for j in range(3):
        unit_id = sim.next_id("ad_unit")
        label = ("Ad Group" if google else "Ad") + f" {j + 1} - {theme}"
        sim.world.units.append(AdUnit(unit_id, camp_id, camp.ext_id * 10 + unit_id, label, created))
        camp.units.append(unit_id)


def step(sim: Sim) -> list[tuple[int, Campaign, int]]:
    """Run one day of ads; return the clicks as (time, campaign, unit id), each a future session."""
    rng = sim.rng("marketing")
    _status_changes(sim, rng)
    clicks: list[tuple[int, Campaign, int]] = []
    live = [c for c in sim.world.campaigns if c.status == "ENABLED"]
    n_units = sum(len(c.units) for c in sim.world.campaigns) or 1
    mean = sim.n(_PAID_CLICKS_PER_DAY) / n_units
    for camp in live:
        for unit_id in camp.units:
            clicks.extend(_unit_day(sim, rng, camp, unit_id, mean))
    return clicks


def _unit_day(
    sim: Sim, rng: random.Random, camp: Campaign, unit_id: int, mean: float
) -> list[tuple[int, Campaign, int]]:
    n = count(rng, mean * rng.uniform(0.6, 1.4))
    impressions = n * rng.randint(20, 60) + rng.randint(30, 400)
    cost = sum(round(camp.cpc * rng.uniform(0.7, 1.3)) for _ in range(n))
    sim.ad_spend[camp.platform] += cost
    sim.ad_index[(unit_id, sim.day)] = len(sim.world.ad_days)
    sim.world.ad_days.append(AdDay(unit_id, camp.camp_id, sim.day, impressions, n, cost))
    return [(sim.at(rng, 0, 23.5), camp, unit_id) for _ in range(n)]


def _status_changes(sim: Sim, rng: random.Random) -> None:
    for camp in sim.world.campaigns:
        u = rng.random()
        if u < 0.03:
            camp.status = "PAUSED" if camp.status == "ENABLED" else "ENABLED"
            camp.updated_ts = sim.at(rng, 7, 19)
        elif u < 0.06:
            camp.daily_budget = max(2_000, camp.daily_budget + rng.choice((-2_500, 2_500, 5_000)))
            camp.updated_ts = sim.at(rng, 7, 19)


def record_conversion(sim: Sim, session: Session, order: Order) -> None:
    if session.unit_id is None:
        return
    index = sim.ad_index.get((session.unit_id, sim.day))
    if index is None:
        return
    ad_day = sim.world.ad_days[index]
    ad_day.conversions += 1
    ad_day.conversion_value += to_usd(order.total, order.currency)
