"""B2B sales: business accounts, leads, and opportunities whose wins become Team subscriptions."""

from __future__ import annotations

import random
from datetime import timedelta

from company import ids
from company.catalog import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    COUNTRIES,
    COUNTRY_BY_CODE,
    INDUSTRIES,
    LEAD_SOURCES,
    PLAN_BY_CODE,
    SF_STAGES,
)
from company.clock import DAY, sim_date, to_date
from company.model import Company, Lead, Opportunity
from company.rand import count, weighted
from company.sim import billing, people
from company.sim.core import Sim

_TITLES = ("Office Manager", "Head of Operations", "HR Director", "CEO", "Team Lead", "Procurement Manager")


def setup(sim: Sim) -> None:
    rng = sim.rng("sales-setup", -1)
    for _ in range(max(3, round(90 * sim.scale))):
        company = _new_company(sim, rng, sim.t0(0) - rng.randint(30, 700) * DAY)
        for _ in range(rng.randint(1, 2)):
            people.new_person(sim, rng, company.created_ts + rng.randint(0, 20 * DAY), prospect=True, company=company)
    for _ in range(round(180 * sim.scale)):
        _new_lead(sim, rng, sim.t0(0) - rng.randint(1, 120) * DAY + rng.randint(0, DAY - 1), setup=True)
    companies = sim.world.companies
    for company in rng.sample(companies, k=max(1, len(companies) // 3)):
        created = sim.t0(0) - rng.randint(1, 40) * DAY + rng.randint(0, DAY - 1)
        _new_opportunity(sim, rng, company, created, stage=rng.randint(0, 4))
    for company in rng.sample(companies, k=max(2, round(15 * sim.scale))):
        # Team customers won before the history starts.
        ts = sim.t0(0) - rng.randint(20, 300) * DAY + rng.randint(0, DAY - 1)
        opp = _new_opportunity(sim, rng, company, ts - rng.randint(20, 60) * DAY, stage=4)
        opp.close_date, opp.updated_ts = to_date(ts), ts
        _win(sim, opp, ts)


def _new_company(sim: Sim, rng: random.Random, ts: int) -> Company:
    cid = sim.next_id("company")
    word = rng.choice(COMPANY_WORDS)
    name = f"{word} {rng.choice(COMPANY_SUFFIXES)}" + (f" {cid}" if rng.random() < 0.5 else "")
    country = weighted(rng, COUNTRIES, [c.weight for c in COUNTRIES]).code
    company = Company(
        cid=cid,
        name=name,
        domain=f"{word.lower()}{cid}.com",
        industry=rng.choice(INDUSTRIES),
        employees=rng.choice((12, 25, 60, 140, 400, 1200)),
        country=country,
        city=rng.choice(COUNTRY_BY_CODE[country].cities)[0],
        created_ts=ts,
        updated_ts=ts,
        sf_id=ids.salesforce("001", 900_000 + cid),
        hs_id=sim.next_id("hs_company", 9_001) * 1_000 + 7,
    )
    sim.world.companies.append(company)
    return company


def _new_lead(sim: Sim, rng: random.Random, ts: int, setup: bool = False) -> Lead:
    p = people.new_person(sim, rng, ts, prospect=True)
    lid = sim.next_id("lead")
    status = rng.choice(("Open - Not Contacted", "Working - Contacted")) if setup else "Open - Not Contacted"
    lead = Lead(
        lid=lid,
        pid=p.pid,
        sf_id=ids.salesforce("00Q", lid),
        company_name=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}",
        title=rng.choice(_TITLES),
        source=rng.choice(LEAD_SOURCES),
        status=status,
        created_ts=ts,
        updated_ts=ts,
    )
    p.sf_lead_id = lead.sf_id
    sim.world.leads.append(lead)
    return lead


def _new_opportunity(sim: Sim, rng: random.Random, company: Company, ts: int, stage: int = 0) -> Opportunity:
    opp_id = sim.next_id("opportunity")
    seats = rng.choice((5, 8, 10, 15, 20, 30, 50))
    contact = (
        company.contact_pids[0]
        if company.contact_pids
        else people.new_person(sim, rng, ts, prospect=True, company=company).pid
    )
    opp = Opportunity(
        opp_id=opp_id,
        sf_id=ids.salesforce("006", opp_id),
        company_id=company.cid,
        contact_pid=contact,
        name=f"{company.name} - Trail Club Team ({seats} seats)",
        stage=SF_STAGES[stage],
        seats=seats,
        amount=seats * PLAN_BY_CODE["team"].unit_amount * 12,
        close_date=to_date(ts) + timedelta(days=rng.randint(20, 75)),
        created_ts=ts,
        updated_ts=ts,
        source=rng.choice(LEAD_SOURCES),
        hs_id=sim.next_id("hs_deal", 3_001) * 100 + 3 if rng.random() < 0.6 else None,
    )
    sim.world.opportunities.append(opp)
    return opp


def step(sim: Sim) -> None:
    rng = sim.rng("sales")
    for _ in range(count(rng, sim.n(5))):
        _new_lead(sim, rng, sim.at(rng, 7, 22))
    _work_leads(sim, rng)
    _advance_opportunities(sim, rng)
    for _ in range(count(rng, sim.n(1.2))):
        _new_opportunity(sim, rng, rng.choice(sim.world.companies), sim.at(rng, 8, 19))


def _work_leads(sim: Sim, rng: random.Random) -> None:
    for lead in sim.world.leads:
        if lead.deleted_ts or lead.status.startswith("Closed") or lead.created_ts >= sim.t0():
            continue
        u = rng.random()
        if u < 0.003:
            lead.deleted_ts = lead.updated_ts = sim.at(rng, 8, 18)  # duplicate removed by an admin
        elif lead.status == "Open - Not Contacted" and u < 0.08:
            lead.status, lead.updated_ts = "Working - Contacted", sim.at(rng, 8, 18)
        elif lead.status == "Working - Contacted" and u < 0.04:
            _convert(sim, rng, lead)
        elif lead.status == "Working - Contacted" and u < 0.07:
            lead.status, lead.updated_ts = "Closed - Not Converted", sim.at(rng, 8, 18)


def _convert(sim: Sim, rng: random.Random, lead: Lead) -> None:
    ts = sim.at(rng, 8, 18)
    company = _new_company(sim, rng, ts)
    p = people.person(sim, lead.pid)
    p.company_id = company.cid
    people.touch(p, ts)
    company.contact_pids.append(p.pid)
    opp = _new_opportunity(sim, rng, company, ts)
    lead.status, lead.converted_opp, lead.updated_ts = "Closed - Converted", opp.opp_id, ts


def _advance_opportunities(sim: Sim, rng: random.Random) -> None:
    for opp in sim.world.opportunities:
        if opp.stage.startswith("Closed") or opp.deleted_ts or opp.created_ts >= sim.t0():
            continue
        u = rng.random()
        if u < 0.002:
            opp.deleted_ts = opp.updated_ts = sim.at(rng, 8, 18)
        elif u < 0.12:
            _next_stage(sim, rng, opp)
        elif u < 0.15:
            opp.seats = max(3, opp.seats + rng.choice((-5, 5, 10)))
            opp.amount = opp.seats * PLAN_BY_CODE["team"].unit_amount * 12
            opp.updated_ts = sim.at(rng, 8, 18)


def _next_stage(sim: Sim, rng: random.Random, opp: Opportunity) -> None:
    ts = sim.at(rng, 8, 18)
    opp.updated_ts = ts
    index = SF_STAGES.index(opp.stage)
    if index + 1 < len(SF_STAGES):
        opp.stage = SF_STAGES[index + 1]
        return
    opp.close_date = sim_date(sim.start, sim.day)
    if rng.random() < 0.45:
        _win(sim, opp, ts)
    else:
        opp.stage = "Closed Lost"


def _win(sim: Sim, opp: Opportunity, ts: int) -> None:
    opp.stage, opp.won_ts = "Closed Won", ts
    company = sim.world.companies[opp.company_id - 1]
    company.updated_ts = max(company.updated_ts, ts)
    p = people.person(sim, opp.contact_pid)
    if p.is_prospect:
        people.register_customer(sim, sim.rng(f"win-{opp.opp_id}"), p, ts)
    if p.pid in sim.subscriber:
        return
    sub = billing.new_subscription(sim, p, "team", opp.seats, ts, opportunity_id=opp.opp_id)
    opp.subscription_id = sub.sid
    billing.charge(sim, p, billing.mrr(sub), "USD", "US", ts + 60, sub=sub)
    if ts < sim.t0(0):
        billing.roll_forward(sim, sub)
