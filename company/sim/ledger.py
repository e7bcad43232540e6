"""The general ledger: every money movement of the model becomes a balanced journal entry."""

from __future__ import annotations

from company.catalog import ENTITY_CURRENCY
from company.model import JournalEntry, JournalLine
from company.sim.core import Sim, from_usd, to_usd


def post(
    sim: Sim,
    ts: int,
    entity: str,
    kind: str,
    currency: str,
    reference: str,
    memo: str,
    debit: str,
    credit: str,
    amount: int,
    pid: int | None = None,
) -> None:
    """A two-line entry: `amount` (minor units of `currency`) debited to one account, credited to another."""
    if amount <= 0:
        return
    lines = [JournalLine(debit, amount, 0), JournalLine(credit, 0, amount)]
    je = JournalEntry(sim.next_id("journal", 100_001), ts, entity, kind, currency, reference, memo, lines, pid)
    sim.world.journal.append(je)


def to_entity(amount: int, currency: str, entity: str) -> int:
    target = ENTITY_CURRENCY[entity]
    return amount if currency == target else from_usd(to_usd(amount, currency), target)


def close_day(sim: Sim) -> None:
    """Daily summary postings: processor fees, cost of goods shipped, and ad spend accrued."""
    end = sim.t0() + 86_399 - 60
    day = f"{sim.start.toordinal() + sim.day}"
    for entity in ("US", "EU"):
        cur = ENTITY_CURRENCY[entity]
        fee = sim.fees.pop(entity, 0)
        post(sim, end, entity, "fees", cur, f"FEES-{day}-{entity}", "Stripe processing fees", "6100", "1010", fee)
        cogs = to_entity(sim.shipped_cost.pop(entity, 0), "USD", entity)
        post(sim, end, entity, "cogs", cur, f"COGS-{day}-{entity}", "Cost of goods shipped", "5000", "1200", cogs)
    for platform in ("google", "facebook"):
        spend = sim.ad_spend.pop(platform, 0)
        ref = f"ADS-{day}-{platform.upper()}"
        post(sim, end, "US", "ad_spend", "USD", ref, f"{platform.title()} Ads spend", "6200", "2000", spend)
