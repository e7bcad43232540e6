"""Operational databases: the app's PostgreSQL, the legacy MySQL, the ERP's SQL Server, HR's Oracle.

Rows carry the column names and Arrow types an Arrow-native extractor returns for each engine:
snake_case and timestamptz in Postgres, naive DATETIME in MySQL, PascalCase and datetime2 in SQL Server,
UPPER_CASE and DATE-as-timestamp in Oracle.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from company.catalog import ACCOUNTS, COUNTRY_BY_CODE, ENTITY_CURRENCY, PLAN_BY_CODE, SAP_COMPANY_CODE
from company.clock import DAY, sim_date
from company.model import Order, Person, Subscription
from company.noise import email_variant, phone_variant, present
from company.projections.common import (
    BOOL,
    DATE,
    I32,
    I64,
    STR,
    TS,
    TS_MS,
    TSTZ,
    dec,
    money,
    schema,
)
from company.sim.core import to_usd
from company.sim.ledger import to_entity
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

# --- PostgreSQL (application database) -------------------------------------------------------

PG_USERS = StreamDef(
    "users",
    "parquet",
    ("id",),
    "updated_at",
    "daily",
    "company_production.public.users",
    schema(
        ("id", I64),
        ("email", STR),
        ("first_name", STR),
        ("last_name", STR),
        ("phone", STR),
        ("country_code", STR),
        ("city", STR),
        ("region", STR),
        ("marketing_opt_in", BOOL),
        ("created_at", TSTZ),
        ("updated_at", TSTZ),
    ),
)
PG_SUBSCRIPTIONS = StreamDef(
    "subscriptions",
    "parquet",
    ("id",),
    "updated_at",
    "hourly",
    "company_production.public.subscriptions",
    schema(
        ("id", I64),
        ("user_id", I64),
        ("plan_code", STR),
        ("status", STR),
        ("quantity", I32),
        ("unit_price", dec(10, 2)),
        ("currency", STR),
        ("current_period_start", TSTZ),
        ("current_period_end", TSTZ),
        ("cancel_at_period_end", BOOL),
        ("canceled_at", TSTZ),
        ("ended_at", TSTZ),
        ("stripe_subscription_id", STR),
        ("metadata", STR),
        ("created_at", TSTZ),
        ("updated_at", TSTZ),
    ),
)
PG_INVENTORY = StreamDef(
    "product_inventory",
    "parquet",
    ("product_id", "warehouse_code"),
    "updated_at",
    "real-time",
    "company_production.public.product_inventory",
    schema(
        ("product_id", I64),
        ("warehouse_code", STR),
        ("sku", STR),
        ("quantity_on_hand", I32),
        ("quantity_reserved", I32),
        ("reorder_point", I32),
        ("updated_at", TSTZ),
    ),
)


def _pg_user(view: View, p: Person) -> Record:
    return {
        "id": p.app_user_id,
        "email": p.email,
        "first_name": p.first,
        "last_name": p.last,
        "phone": p.phone,
        "country_code": p.country,
        "city": p.city,
        "region": p.region,
        "marketing_opt_in": p.opt_in,
        "created_at": p.created_ts,
        "updated_at": p.updated_ts,
    }


def _users(view: View) -> ChangeSet:
    batch = ChangeSet()
    for p in view.world.persons:
        if p.app_user_id is None:
            continue
        if p.app_deleted_ts is not None:
            if view.shows(p.app_deleted_ts) and not view.initial:
                batch.deletes.append({"id": p.app_user_id, "_deleted_at": p.app_deleted_ts})
            continue
        if view.changed(p.updated_ts):
            batch.rows.append(_pg_user(view, p))
    return batch


def _pg_subscription(view: View, sub: Subscription) -> Record:
    p = view.world.persons[sub.pid - 1]
    meta = {"source": "sales" if sub.opportunity_id else "self_serve"}
    if sub.opportunity_id:
        meta["salesforce_opportunity_id"] = view.world.opportunities[sub.opportunity_id - 1].sf_id
    return {
        "id": sub.sid,
        "user_id": p.app_user_id,
        "plan_code": sub.plan,
        "status": sub.status,
        "quantity": sub.quantity,
        "unit_price": money(PLAN_BY_CODE[sub.plan].unit_amount),
        "currency": "USD",
        "current_period_start": sub.period_start,
        "current_period_end": sub.period_end,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": sub.canceled_ts,
        "ended_at": sub.ended_ts,
        "stripe_subscription_id": sub.stripe_id,
        "metadata": json.dumps(meta, sort_keys=True),
        "created_at": sub.created_ts,
        "updated_at": sub.updated_ts,
    }


def _inventory(view: View) -> ChangeSet:
    batch = ChangeSet()
    products = view.world.products
    for (product_id, warehouse), stock in view.world.stock.items():
        if stock.deleted_ts is not None:
            if view.shows(stock.deleted_ts) and not view.initial:
                key = {"product_id": product_id, "warehouse_code": warehouse, "_deleted_at": stock.deleted_ts}
                batch.deletes.append(key)
            continue
        if view.changed(stock.updated_ts):
            batch.rows.append(
                {
                    "product_id": product_id,
                    "warehouse_code": warehouse,
                    "sku": products[product_id - 1].sku,
                    "quantity_on_hand": stock.on_hand,
                    "quantity_reserved": stock.reserved,
                    "reorder_point": stock.reorder_point,
                    "updated_at": stock.updated_ts,
                }
            )
    return batch


def project_postgres(view: View) -> dict[str, ChangeSet]:
    subs = [_pg_subscription(view, s) for s in view.world.subscriptions if view.changed(s.updated_ts)]
    return {"users": _users(view), "subscriptions": ChangeSet(subs), "product_inventory": _inventory(view)}


POSTGRES = SystemDef("postgres", "sql", (PG_USERS, PG_SUBSCRIPTIONS, PG_INVENTORY), project_postgres)

# --- MySQL (legacy systems) ------------------------------------------------------------------

MY_CUSTOMERS = StreamDef(
    "customer_data",
    "parquet",
    ("cust_id",),
    "last_modified",
    "daily",
    "legacy_systems.customer_data",
    schema(
        ("cust_id", I64),
        ("customer_name", STR),
        ("email_address", STR),
        ("phone_number", STR),
        ("address_city", STR),
        ("address_country", STR),
        ("status", STR),
        ("created_date", TS),
        ("last_modified", TS),
    ),
)
MY_ORDERS = StreamDef(
    "order_history",
    "parquet",
    ("order_id",),
    "last_modified",
    "daily",
    "legacy_systems.order_history",
    schema(
        ("order_id", I64),
        ("cust_id", I64),
        ("order_date", TS),
        ("order_status", STR),
        ("currency_code", STR),
        ("order_total", dec(12, 2)),
        ("item_count", I32),
        ("ship_country", STR),
        ("last_modified", TS),
    ),
)


def _legacy_customers(view: View) -> ChangeSet:
    batch = ChangeSet()
    deleted = view.world.legacy_deleted
    for p in view.world.persons:
        for legacy_id in p.legacy_ids:
            gone = deleted.get(legacy_id)
            if gone is not None:
                if view.shows(gone) and not view.initial:
                    batch.deletes.append({"cust_id": legacy_id, "_deleted_at": gone})
                continue
            if view.changed(p.updated_ts):
                batch.rows.append(_legacy_customer(view, p, legacy_id))
    return batch


def _legacy_customer(view: View, p: Person, legacy_id: int) -> Record:
    seed = view.seed
    email = email_variant(seed, "mysql", legacy_id, p.email, messiness=1.6)
    return {
        "cust_id": legacy_id,
        "customer_name": f"{p.first} {p.last}".upper(),
        "email_address": email if present(seed, "mysql", legacy_id, "email", 0.05) else None,
        "phone_number": phone_variant(seed, "mysql", legacy_id, p.phone),
        "address_city": p.city,
        "address_country": COUNTRY_BY_CODE[p.country].name,
        "status": "I" if p.app_deleted_ts else "A",
        "created_date": p.created_ts,
        "last_modified": p.updated_ts,
    }


def order_status(order: Order) -> str:
    if order.cancelled_ts:
        return "CANCELLED"
    if order.refunds:
        return "REFUNDED" if order.refunded >= order.total else "PARTIAL_REFUND"
    return "SHIPPED" if order.fulfilled_ts else "PENDING"


def _legacy_order(view: View, order: Order) -> Record:
    p = view.world.persons[order.pid - 1]
    return {
        "order_id": order.number,
        "cust_id": p.legacy_ids[0] if p.legacy_ids else None,
        "order_date": order.ts,
        "order_status": order_status(order),
        "currency_code": order.currency,
        "order_total": money(order.total),
        "item_count": sum(line.quantity for line in order.lines),
        "ship_country": p.country,
        "last_modified": order.updated_ts,
    }


def project_mysql(view: View) -> dict[str, ChangeSet]:
    orders = [_legacy_order(view, o) for o in view.world.orders if view.changed(o.updated_ts)]
    return {"customer_data": _legacy_customers(view), "order_history": ChangeSet(orders)}


MYSQL = SystemDef("mysql", "sql", (MY_CUSTOMERS, MY_ORDERS), project_mysql)

# --- SQL Server (ERP) ------------------------------------------------------------------------

MS_MOVEMENTS = StreamDef(
    "inventory_movements",
    "parquet",
    ("MovementID",),
    "ModifiedDate",
    "hourly",
    "erp_system.dbo.InventoryMovements",
    schema(
        ("MovementID", I64),
        ("ItemNumber", STR),
        ("WarehouseCode", STR),
        ("MovementType", STR),
        ("Quantity", I32),
        ("UnitCost", dec(19, 4)),
        ("ExtendedCost", dec(19, 4)),
        ("ReferenceNumber", STR),
        ("OnHandAfter", I32),
        ("MovementDate", TS),
        ("CreatedBy", STR),
        ("ModifiedDate", TS),
    ),
)
MS_REPORTS = StreamDef(
    "financial_reports",
    "parquet",
    ("ReportDate", "CompanyCode", "AccountNumber"),
    "GeneratedAt",
    "daily",
    "erp_system.dbo.FinancialReports",
    schema(
        ("ReportDate", DATE),
        ("CompanyCode", STR),
        ("AccountNumber", STR),
        ("AccountName", STR),
        ("AccountType", STR),
        ("DebitAmount", dec(19, 4)),
        ("CreditAmount", dec(19, 4)),
        ("NetAmount", dec(19, 4)),
        ("CurrencyCode", STR),
        ("NetAmountUSD", dec(19, 4)),
        ("GeneratedAt", TS),
    ),
)


def _movements(view: View) -> list[Record]:
    skus = [p.sku for p in view.world.products]
    rows = []
    for m in view.world.movements:
        if view.shows(m.ts):
            rows.append(
                {
                    "MovementID": m.mid,
                    "ItemNumber": skus[m.product_id - 1],
                    "WarehouseCode": m.warehouse,
                    "MovementType": m.kind,
                    "Quantity": m.quantity,
                    "UnitCost": money(m.unit_cost),
                    "ExtendedCost": money(m.unit_cost * m.quantity),
                    "ReferenceNumber": m.reference,
                    "OnHandAfter": m.on_hand_after,
                    "MovementDate": m.ts,
                    "CreatedBy": "svc_wms",
                    "ModifiedDate": m.ts,
                }
            )
    return rows


def trial_balance(view: View) -> dict[tuple[int, str, str], list[int]]:
    """(day, entity, account) -> [debit, credit] in the entity's currency, for days in the window."""
    totals: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for je in view.world.journal:
        day = view.day(je.ts)
        if day < 0 or not view.arrived(day):
            continue
        for line in je.lines:
            cell = totals[(day, je.entity, line.account)]
            cell[0] += to_entity(line.debit, je.currency, je.entity)
            cell[1] += to_entity(line.credit, je.currency, je.entity)
    return totals


def _reports(view: View) -> list[Record]:
    rows = []
    start = view.world.start
    for (day, entity, account), (debit, credit) in sorted(trial_balance(view).items()):
        cur = ENTITY_CURRENCY[entity]
        rows.append(
            {
                "ReportDate": sim_date(start, day),
                "CompanyCode": SAP_COMPANY_CODE[entity],
                "AccountNumber": account,
                "AccountName": ACCOUNTS[account][0],
                "AccountType": ACCOUNTS[account][1],
                "DebitAmount": money(debit),
                "CreditAmount": money(credit),
                "NetAmount": money(debit - credit),
                "CurrencyCode": cur,
                "NetAmountUSD": money(to_usd(debit - credit, cur)),
                "GeneratedAt": (start.toordinal() - date(1970, 1, 1).toordinal() + day) * DAY + DAY - 300,
            }
        )
    return rows


def project_sqlserver(view: View) -> dict[str, ChangeSet]:
    return {"inventory_movements": ChangeSet(_movements(view)), "financial_reports": ChangeSet(_reports(view))}


SQLSERVER = SystemDef("sqlserver", "sql", (MS_MOVEMENTS, MS_REPORTS), project_sqlserver)

# --- Oracle (HR) -----------------------------------------------------------------------------

ORA_EMPLOYEES = StreamDef(
    "employee_data",
    "parquet",
    ("EMPLOYEE_ID",),
    "LAST_UPDATE_DATE",
    "weekly",
    "HRPROD.HR.EMPLOYEE_DATA",
    schema(
        ("EMPLOYEE_ID", I64),
        ("FIRST_NAME", STR),
        ("LAST_NAME", STR),
        ("EMAIL", STR),
        ("PHONE_NUMBER", STR),
        ("HIRE_DATE", TS_MS),
        ("JOB_ID", STR),
        ("SALARY", dec(10, 2)),
        ("COMMISSION_PCT", dec(2, 2)),
        ("MANAGER_ID", I64),
        ("DEPARTMENT_ID", I64),
        ("TERMINATION_DATE", TS_MS),
        ("STATUS", STR),
        ("LAST_UPDATE_DATE", TS),
    ),
)
ORA_PAYROLL = StreamDef(
    "payroll_records",
    "parquet",
    ("PAYROLL_ID",),
    "CREATED_DATE",
    "monthly",
    "HRPROD.HR.PAYROLL_RECORDS",
    schema(
        ("PAYROLL_ID", I64),
        ("EMPLOYEE_ID", I64),
        ("PAY_PERIOD_START", TS_MS),
        ("PAY_PERIOD_END", TS_MS),
        ("PAY_DATE", TS_MS),
        ("GROSS_PAY", dec(12, 2)),
        ("TAX_WITHHELD", dec(12, 2)),
        ("BENEFITS_DEDUCTION", dec(12, 2)),
        ("NET_PAY", dec(12, 2)),
        ("CURRENCY_CODE", STR),
        ("CREATED_DATE", TS),
    ),
)


def _date_ts(d: date | None) -> int | None:
    return None if d is None else (d.toordinal() - date(1970, 1, 1).toordinal()) * DAY


def _employees(view: View) -> list[Record]:
    today = sim_date(view.world.start, view.last)
    org_ids = {o.code: o.org_id * 10 for o in view.world.organisations}
    rows = []
    for e in view.world.employees:
        if not view.changed(e.updated_ts) or e.hire_date > today:
            continue
        gone = e.term_date is not None and e.term_date <= today
        rows.append(
            {
                "EMPLOYEE_ID": e.eid,
                "FIRST_NAME": e.first,
                "LAST_NAME": e.last,
                "EMAIL": e.email,
                "PHONE_NUMBER": e.phone,
                "HIRE_DATE": _date_ts(e.hire_date),
                "JOB_ID": e.job_id,
                "SALARY": money(e.salary // 12),
                "COMMISSION_PCT": money(10) if e.job_id == "SA_REP" else None,
                "MANAGER_ID": e.manager_eid,
                "DEPARTMENT_ID": org_ids[e.org_code],
                "TERMINATION_DATE": _date_ts(e.term_date),
                "STATUS": "TERMINATED" if gone else "ACTIVE",
                "LAST_UPDATE_DATE": e.updated_ts,
            }
        )
    return rows


def _payroll(view: View) -> list[Record]:
    return [
        {
            "PAYROLL_ID": r.payroll_id,
            "EMPLOYEE_ID": r.eid,
            "PAY_PERIOD_START": _date_ts(r.period_start),
            "PAY_PERIOD_END": _date_ts(r.period_end),
            "PAY_DATE": _date_ts(r.pay_date),
            "GROSS_PAY": money(r.gross),
            "TAX_WITHHELD": money(r.tax),
            "BENEFITS_DEDUCTION": money(r.benefits),
            "NET_PAY": money(r.net),
            "CURRENCY_CODE": "USD",
            "CREATED_DATE": r.created_ts,
        }
        for r in view.world.payroll
        if view.shows(r.created_ts)
    ]


def project_oracle(view: View) -> dict[str, ChangeSet]:
    return {"employee_data": ChangeSet(_employees(view)), "payroll_records": ChangeSet(_payroll(view))}


ORACLE = SystemDef("oracle", "sql", (ORA_EMPLOYEES, ORA_PAYROLL), project_oracle)
