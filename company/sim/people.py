"""People: customers and prospects, their records in each system, and how those records drift."""

from __future__ import annotations

import math
import random

from company import ids
from company.catalog import (
    ALT_EMAIL_DOMAINS,
    CATEGORIES,
    COUNTRIES,
    COUNTRY_BY_CODE,
    FIRST_NAMES,
    LAST_NAMES,
    PRIMARY_EMAIL_DOMAINS,
)
from company.model import Company, Person, Preference, UserEvent
from company.noise import email_variant
from company.rand import count, weighted
from company.sim.core import Sim

# The share of Stripe customers whose normalised email matches a CRM record; stated in the ground truth.
STRIPE_CRM_MATCH_SHARE = 0.8
_COUNTRY_WEIGHTS = [c.weight for c in COUNTRIES]


def _phone(rng: random.Random, country: str) -> str:
    prefix = COUNTRY_BY_CODE[country].phone_prefix
    if prefix == "+1":
        return f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"
    return f"{prefix}{rng.randint(100_000_000, 999_999_999)}"


def new_person(
    sim: Sim, rng: random.Random, ts: int, *, prospect: bool = False, company: Company | None = None
) -> Person:
    pid = sim.next_id("person")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country = company.country if company else weighted(rng, COUNTRIES, _COUNTRY_WEIGHTS).code
    city, region = rng.choice(COUNTRY_BY_CODE[country].cities)
    domain = company.domain if company else rng.choice(PRIMARY_EMAIL_DOMAINS)
    person = Person(
        pid=pid,
        first=first,
        last=last,
        email=f"{first}.{last}{pid}@{domain}".lower(),
        alt_email=f"{first[0]}{last}.{pid}@{rng.choice(ALT_EMAIL_DOMAINS)}".lower(),
        phone=None if rng.random() < 0.12 else _phone(rng, country),
        country=country,
        city=city,
        region=region,
        created_ts=ts,
        updated_ts=ts,
        is_prospect=prospect,
        company_id=company.cid if company else None,
        opt_in=rng.random() < 0.7,
        device_id=f"{rng.getrandbits(64):016x}",
    )
    sim.world.persons.append(person)
    if company:
        company.contact_pids.append(pid)
    _register_marketing(sim, rng, person, ts)
    if not prospect:
        register_customer(sim, rng, person, ts)
    return person


def person(sim: Sim, pid: int) -> Person:
    return sim.world.persons[pid - 1]


def _register_marketing(sim: Sim, rng: random.Random, p: Person, ts: int) -> None:
    if rng.random() >= (0.7 if p.is_prospect else 0.92):
        return
    p.hs_ids.append(sim.next_id("hs_contact", 101))
    p.hs_email_missing = rng.random() < 0.03
    if not p.hs_email_missing and rng.random() < 0.04:
        # A second contact for the same person, merged away (archived) a few days later.
        dup = sim.next_id("hs_contact", 101)
        p.hs_ids.append(dup)
        sim.later(sim.day + rng.randint(2, 20), lambda: _archive_contact(sim, p, dup))


def _archive_contact(sim: Sim, p: Person, contact_id: int) -> None:
    ts = sim.at(sim.rng(f"hs-archive-{contact_id}"), 8, 20)
    p.hs_archived[contact_id] = ts


def register_customer(sim: Sim, rng: random.Random, p: Person, ts: int) -> None:
    """The person signs up: an app user, usually a legacy record, sometimes a CRM person account."""
    p.is_prospect = False
    touch(p, ts)
    p.app_user_id = sim.next_id("app_user", 10_001)
    if rng.random() < 0.88:
        p.legacy_ids.append(sim.next_id("legacy", 500_001))
        if rng.random() < 0.05:
            dup = sim.next_id("legacy", 500_001)
            p.legacy_ids.append(dup)
            sim.later(sim.day + rng.randint(3, 25), lambda: _merge_legacy(sim, dup))
    if rng.random() < 0.35:
        p.sf_account_id = ids.salesforce("001", sim.next_id("sf_account"))
    if rng.random() < 0.5:
        cats = sorted(rng.sample(sorted(CATEGORIES), k=rng.randint(1, 3)))
        sim.world.preferences[p.pid] = Preference(
            p.pid, rng.choice(("light", "dark", "system")), "en", p.opt_in, cats, "USD", ts
        )
    sim.active_customers.append(p.pid)
    if sim.day >= 0:
        data = {"email": p.email, "country": p.country, "marketing_opt_in": p.opt_in, "phone": p.phone, "city": p.city}
        sim.world.user_events.append(UserEvent(ts, p.pid, "signed_up", sim.day, data=data))


def _merge_legacy(sim: Sim, legacy_id: int) -> None:
    sim.world.legacy_deleted[legacy_id] = sim.at(sim.rng(f"legacy-merge-{legacy_id}"), 1, 5)


def has_crm_email(p: Person) -> bool:
    if p.sf_account_id:
        return True
    return bool(p.hs_ids) and not p.hs_email_missing


def ensure_stripe(sim: Sim, p: Person, ts: int) -> None:
    """Create the Stripe customer, steering its email so the CRM match share stays on target."""
    if p.stripe_id:
        return
    n = sim.next_id("stripe_customer")
    p.stripe_id = ids.stripe(sim.seed, "cus", n)
    p.stripe_created_ts = ts
    w = sim.world
    target = math.floor(n * STRIPE_CRM_MATCH_SHARE)
    if w.stripe_matched < target and has_crm_email(p):
        w.stripe_matched += 1
        p.stripe_email = email_variant(sim.seed, "stripe", p.pid, p.email)
    elif has_crm_email(p):
        p.stripe_email = email_variant(sim.seed, "stripe", p.pid, p.alt_email)
    else:
        p.stripe_email = email_variant(sim.seed, "stripe", p.pid, p.email)


def ensure_shop(sim: Sim, p: Person, ts: int) -> None:
    if p.shop_id is None:
        p.shop_id = ids.shopify(1, sim.next_id("shop_customer"))
        p.shop_created_ts = ts


def ensure_netsuite(sim: Sim, p: Person, ts: int) -> None:
    if p.netsuite_id is None:
        p.netsuite_id = sim.next_id("netsuite_customer", 2_001)
        p.netsuite_created_ts = ts


def touch(p: Person, ts: int) -> None:
    p.updated_ts = max(p.updated_ts, ts)


def step(sim: Sim) -> None:
    rng = sim.rng("people")
    _profile_updates(sim, rng)
    _erasures(sim, rng)
    _preference_updates(sim, rng)


def _profile_updates(sim: Sim, rng: random.Random) -> None:
    for _ in range(count(rng, len(sim.active_customers) * 0.004)):
        p = person(sim, rng.choice(sim.active_customers))
        ts = sim.at(rng, 6, 23)
        if p.phone is None or rng.random() < 0.5:
            p.phone = _phone(rng, p.country)
        else:
            p.city, p.region = rng.choice(COUNTRY_BY_CODE[p.country].cities)
        touch(p, ts)
        data = {"phone": p.phone, "city": p.city}
        sim.world.user_events.append(UserEvent(ts, p.pid, "profile_updated", sim.day, data=data))


def _erasures(sim: Sim, rng: random.Random) -> None:
    """GDPR erasure requests: the app hard-deletes the user row (at least one a day)."""
    for _ in range(max(1, round(sim.n(0.6)))):
        p = _erasable(sim, rng)
        if p is None:
            return
        ts = sim.at(rng, 9, 18)
        p.app_deleted_ts = ts
        touch(p, ts)  # the erasure reaches the other systems' copies as an update
        sim.active_customers.remove(p.pid)
        sim.world.user_events.append(UserEvent(ts, p.pid, "account_deleted", sim.day))


def _erasable(sim: Sim, rng: random.Random) -> Person | None:
    """A customer from before today without a live subscription (the app refuses erasure while one runs)."""
    for _ in range(50):
        p = person(sim, rng.choice(sim.active_customers))
        if p.pid not in sim.subscriber and p.created_ts < sim.t0():
            return p
    return None


def _preference_updates(sim: Sim, rng: random.Random) -> None:
    prefs = sim.world.preferences
    if not prefs:
        return
    keys = list(prefs)
    for _ in range(count(rng, len(keys) * 0.01)):
        pref = prefs[rng.choice(keys)]
        pref.theme = rng.choice(("light", "dark", "system"))
        pref.email_opt_in = rng.random() < 0.6
        pref.updated_ts = sim.at(rng, 6, 23)
        pref.version += 1
