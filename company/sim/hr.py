"""People operations: organisations, positions, employees, hires, leavers, raises and monthly payroll."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from company import ids
from company.catalog import FIRST_NAMES, JOBS, LAST_NAMES, ORGANISATIONS
from company.clock import DAY, sim_date
from company.model import Employee, Organisation, Payroll, Position
from company.rand import count, weighted
from company.sim import ledger
from company.sim.core import Sim

PAY_DAY = 25


def setup(sim: Sim) -> None:
    rng = sim.rng("hr-setup", -1)
    for i, (code, name, parent, _share) in enumerate(ORGANISATIONS, start=1):
        sim.world.organisations.append(Organisation(i, code, name, parent, ids.workday(sim.seed, "org", i)))
    shares = [share for *_, share in ORGANISATIONS]
    codes = [code for code, *_ in ORGANISATIONS]
    headcount = max(len(codes), round(200 * sim.scale))
    for i in range(headcount):
        org = codes[i] if i < len(codes) else weighted(rng, codes, shares)
        hired = sim_date(sim.start, -rng.randint(30, 2_500))
        _hire(sim, rng, org, hired, manager=i < len(codes))
    for _ in range(max(1, headcount // 12)):
        _open_position(sim, rng, weighted(rng, codes, shares), sim.t0(-rng.randint(5, 60)))


def _open_position(sim: Sim, rng: random.Random, org: str, ts: int) -> Position:
    pos_id = sim.next_id("position")
    job_id, title, *_ = JOBS[org][0]
    pos = Position(pos_id, ids.workday(sim.seed, "position", pos_id), org, job_id, title, ts, ts)
    sim.world.positions.append(pos)
    return pos


def _hire(sim: Sim, rng: random.Random, org: str, hired: date, manager: bool = False) -> Employee:
    vacancies = [p for p in sim.world.positions if p.eid is None and p.org_code == org]
    ts = (hired.toordinal() - date(1970, 1, 1).toordinal()) * DAY + 9 * 3_600
    pos = vacancies[0] if vacancies and not manager else _open_position(sim, rng, org, ts)
    job_id, title, lo, hi = JOBS[org][1] if manager else JOBS[org][0]
    eid = sim.next_id("employee", 100)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    org_entity = next(o for o in sim.world.organisations if o.code == org)
    boss = org_entity.manager_eid or _manager_of_parent(sim, org)
    emp = Employee(
        eid=eid,
        wid=ids.workday(sim.seed, "worker", eid),
        first=first,
        last=last,
        email=f"{first[0]}{last}{eid}".upper(),
        phone=f"515.555.{eid % 10_000:04d}",
        org_code=org,
        pos_id=pos.pos_id,
        job_id=job_id,
        title=title,
        salary=rng.randint(lo, hi) // 500 * 500 * 100,
        manager_eid=None if manager and org == "ORG-100" else boss,
        hire_date=hired,
        country="US",
        updated_ts=max(ts, pos.created_ts),
    )
    pos.job_id, pos.title, pos.eid = job_id, title, eid
    pos.updated_ts = emp.updated_ts
    if manager:
        org_entity.manager_eid = eid
    sim.world.employees.append(emp)
    return emp


def _manager_of_parent(sim: Sim, org: str) -> int | None:
    parent = next(o.parent for o in sim.world.organisations if o.code == org)
    return next((o.manager_eid for o in sim.world.organisations if o.code == parent), None)


def active(sim: Sim, day: int) -> list[Employee]:
    today = sim_date(sim.start, day)
    return [e for e in sim.world.employees if e.hire_date <= today and (e.term_date is None or e.term_date > today)]


def step(sim: Sim) -> None:
    rng = sim.rng("hr")
    today = sim_date(sim.start, sim.day)
    codes = [code for code, *_ in ORGANISATIONS]
    shares = [share for *_, share in ORGANISATIONS]
    for _ in range(count(rng, sim.n(0.2))):
        _hire(sim, rng, weighted(rng, codes, shares), today)
    staff = active(sim, sim.day)
    for emp in staff:
        u = rng.random()
        if u < 0.0006 and emp.eid != _ceo(sim):
            _leave(sim, rng, emp, today)
        elif u < 0.0016:
            emp.salary = round(emp.salary * rng.uniform(1.03, 1.08)) // 100 * 100
            emp.updated_ts = sim.at(rng, 9, 17)
    if today.day == PAY_DAY:
        _payroll(sim, today)


def _ceo(sim: Sim) -> int | None:
    return sim.world.organisations[0].manager_eid


def _leave(sim: Sim, rng: random.Random, emp: Employee, today: date) -> None:
    emp.term_date = today + timedelta(days=rng.randint(1, 14))
    emp.updated_ts = sim.at(rng, 9, 17)
    pos = sim.world.positions[emp.pos_id - 1]
    pos.updated_ts = emp.updated_ts
    sim.later(sim.day + (emp.term_date - today).days, lambda: _vacate(sim, pos, emp.eid))


def _vacate(sim: Sim, pos: Position, eid: int) -> None:
    ts = sim.at(sim.rng(f"vacate-{pos.pos_id}"), 0, 2)
    emp = sim.world.employees[eid - 100]
    emp.updated_ts = max(emp.updated_ts, ts)  # the HR system flips the status when the last day passes
    if pos.eid == eid:
        pos.eid = None
        pos.updated_ts = ts


def _payroll(sim: Sim, today: date) -> None:
    """Monthly pay for everyone employed on pay day, booked as one journal entry."""
    first = today.replace(day=1)
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    ts = sim.t0() + 6 * 3_600
    total = 0
    for emp in active(sim, sim.day):
        gross = emp.salary // 12
        tax = round(gross * 0.22)
        benefits = round(gross * 0.04)
        pay_id = sim.next_id("payroll", 900_001)
        sim.world.payroll.append(
            Payroll(pay_id, emp.eid, first, last, today, gross, tax, benefits, gross - tax - benefits, ts)
        )
        total += gross
    ref = f"PAY-{today:%Y%m}"
    ledger.post(sim, ts, "US", "payroll", "USD", ref, f"Payroll {today:%B %Y}", "6000", "1000", total)
