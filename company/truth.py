"""Ground truth: the business figures as the model knows them, independent of any file written.

Marts built from the generated sources should reproduce these numbers; identity resolution is scored
against the person behind each source record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from company.catalog import FX_TO_USD
from company.clock import month_key, sim_date
from company.model import Person, World
from company.projections.common import money_float
from company.sim.people import STRIPE_CRM_MATCH_SHARE


def _usd(by_currency: dict[str, int]) -> int:
    return sum(round(amount * FX_TO_USD[cur]) for cur, amount in by_currency.items())


def revenue(world: World) -> dict[str, Any]:
    gross: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    refunds: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ch in world.charges:
        day = world.day_of(ch.ts)
        if ch.succeeded and 0 <= day <= world.last_day:
            gross[day][ch.currency] += ch.amount
        for r in ch.refunds:
            rday = world.day_of(r.ts)
            if 0 <= rday <= world.last_day:
                refunds[rday][ch.currency] += r.amount
    days = []
    for day in range(world.last_day + 1):
        g, r = _usd(gross[day]), _usd(refunds[day])
        currencies = sorted(set(gross[day]) | set(refunds[day]))
        days.append(
            {
                "date": sim_date(world.start, day).isoformat(),
                "gross_usd": money_float(g),
                "refunds_usd": money_float(r),
                "net_usd": money_float(g - r),
                "by_currency": {
                    c: {"gross": money_float(gross[day][c]), "refunds": money_float(refunds[day][c])}
                    for c in currencies
                },
            }
        )
    return {
        "definition": (
            "Per calendar day (UTC): gross = succeeded Stripe charges created that day (shop orders and "
            "subscription invoices); refunds = Stripe refunds created that day; net = gross - refunds. Each is "
            "summed per currency, converted at fx_to_usd, and rounded to cents per currency."
        ),
        "fx_to_usd": FX_TO_USD,
        "days": days,
    }


def _month_ends(world: World) -> list[tuple[str, int]]:
    """Each month's last simulated day."""
    ends: dict[str, int] = {}
    for day in range(world.last_day + 1):
        ends[month_key(sim_date(world.start, day))] = day
    return list(ends.items())


def mrr(world: World) -> dict[str, Any]:
    months = []
    for month, day in _month_ends(world):
        value, live = world.mrr_by_day[day]
        months.append(
            {
                "month": month,
                "as_of": sim_date(world.start, day).isoformat(),
                "mrr_usd": money_float(value),
                "subscriptions": live,
            }
        )
    return {
        "definition": "Monthly recurring revenue at the end of each month's last simulated day: unit price x "
        "quantity of every subscription not yet ended (active or past_due), in USD.",
        "months": months,
    }


def headcount(world: World) -> dict[str, Any]:
    orgs = {o.code: o for o in world.organisations}
    months = []
    for month, day in _month_ends(world):
        counts = world.headcount_by_day[day]
        detail = {
            code: {
                "name": orgs[code].name,
                "workday_id": orgs[code].wid,
                "department_id": orgs[code].org_id * 10,
                "headcount": counts.get(code, 0),
            }
            for code in orgs
        }
        months.append(
            {
                "month": month,
                "as_of": sim_date(world.start, day).isoformat(),
                "organisations": detail,
                "total": sum(counts.values()),
            }
        )
    return {
        "definition": "Employees hired on or before, and not yet departed by, the month's last simulated day.",
        "months": months,
    }


def marketing(world: World) -> dict[str, Any]:
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for a in world.ad_days:
        cell = totals[(a.camp_id, a.day)]
        for i, v in enumerate((a.cost, a.impressions, a.clicks, a.conversions, a.conversion_value)):
            cell[i] += v
    rows = []
    for (camp_id, day), (cost, imp, clicks, conv, value) in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        camp = world.campaigns[camp_id - 1]
        rows.append(
            {
                "date": sim_date(world.start, day).isoformat(),
                "platform": camp.platform,
                "campaign_id": str(camp.ext_id),
                "campaign_name": camp.name,
                "spend_usd": money_float(cost),
                "impressions": imp,
                "clicks": clicks,
                "conversions": conv,
                "conversion_value_usd": money_float(value),
            }
        )
    return {
        "definition": "Per campaign and day: spend, impressions and clicks as served; conversions are the orders "
        "placed in sessions that started from that campaign's clicks (value in USD).",
        "rows": rows,
    }


def identity(world: World) -> dict[str, Any]:
    records: dict[str, dict[str, str]] = {
        name: {}
        for name in (
            "postgres.users",
            "mysql.customer_data",
            "salesforce.accounts",
            "salesforce.leads",
            "hubspot.contacts",
            "shopify.customers",
            "stripe.customers",
            "netsuite.customers",
        )
    }
    for p in world.persons:
        _person_records(records, p)
    n = sum(1 for p in world.persons if p.stripe_id)
    return {
        "description": "For each source record id, the true person behind it (person ids are the generator's).",
        "persons": len(world.persons),
        "records": records,
        "stripe_crm_email_match": {
            "intended_share": STRIPE_CRM_MATCH_SHARE,
            "stripe_customers": n,
            "matched": world.stripe_matched,
            "normalisation": "lower(trim(email))",
            "crm_sources": ["salesforce.accounts.PersonEmail", "hubspot.contacts.properties.email"],
        },
    }


def _person_records(records: dict[str, dict[str, str]], p: Person) -> None:
    key = p.key
    if p.app_user_id is not None:
        records["postgres.users"][str(p.app_user_id)] = key
    for legacy_id in p.legacy_ids:
        records["mysql.customer_data"][str(legacy_id)] = key
    if p.sf_account_id:
        records["salesforce.accounts"][p.sf_account_id] = key
    if p.sf_lead_id:
        records["salesforce.leads"][p.sf_lead_id] = key
    for contact_id in p.hs_ids:
        records["hubspot.contacts"][str(contact_id)] = key
    if p.shop_id is not None:
        records["shopify.customers"][str(p.shop_id)] = key
    if p.stripe_id:
        records["stripe.customers"][p.stripe_id] = key
    if p.netsuite_id is not None:
        records["netsuite.customers"][str(p.netsuite_id)] = key


def write(world: World, out_dir: Path) -> None:
    folder = out_dir / "_ground_truth"
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in (
        ("revenue", revenue(world)),
        ("mrr", mrr(world)),
        ("headcount", headcount(world)),
        ("marketing", marketing(world)),
        ("identity", identity(world)),
    ):
        (folder / f"{name}.json").write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
