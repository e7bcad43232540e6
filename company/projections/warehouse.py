"""Cloud warehouses: Snowflake (UPPER_CASE identifiers), Redshift (lowercase), BigQuery (GA4 export)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pyarrow as pa

from company.catalog import ACCOUNTS, COUNTRY_BY_CODE, FX_TO_USD
from company.clock import DAY, day_start, sim_date, to_date, ymd
from company.model import JournalEntry, Order, Session
from company.projections.common import (
    BOOL,
    DATE,
    F64,
    I64,
    STR,
    TS,
    TSTZ,
    dec,
    money,
    schema,
    usd,
)
from company.projections.timeline import Hit, hits
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

# --- Snowflake -------------------------------------------------------------------------------

SF_ORDERS = StreamDef(
    "customer_orders",
    "parquet",
    ("ORDER_ID",),
    "UPDATED_AT",
    "hourly",
    "RAW_DATA.PUBLIC.CUSTOMER_ORDERS",
    schema(
        ("ORDER_ID", STR),
        ("OPPORTUNITY_ID", STR),
        ("ACCOUNT_ID", STR),
        ("ACCOUNT_NAME", STR),
        ("ORDER_DATE", DATE),
        ("PRODUCT_NAME", STR),
        ("SEATS", I64),
        ("ANNUAL_AMOUNT", dec(18, 2)),
        ("CURRENCY", STR),
        ("STATUS", STR),
        ("STRIPE_SUBSCRIPTION_ID", STR),
        ("CREATED_AT", TSTZ),
        ("UPDATED_AT", TSTZ),
    ),
)
SF_PRODUCTS = StreamDef(
    "product_catalog",
    "parquet",
    ("PRODUCT_ID",),
    "UPDATED_AT",
    "daily",
    "RAW_DATA.PUBLIC.PRODUCT_CATALOG",
    schema(
        ("PRODUCT_ID", I64),
        ("NETSUITE_INTERNAL_ID", STR),
        ("SKU", STR),
        ("PRODUCT_NAME", STR),
        ("CATEGORY", STR),
        ("VENDOR_ID", STR),
        ("LIST_PRICE", dec(10, 2)),
        ("UNIT_COST", dec(10, 2)),
        ("CURRENCY", STR),
        ("IS_ACTIVE", BOOL),
        ("ATTRIBUTES", STR),
        ("CREATED_AT", TS),
        ("UPDATED_AT", TS),
    ),
)
SF_TRANSACTIONS = StreamDef(
    "financial_transactions",
    "parquet",
    ("TXN_ID", "LINE_NUM"),
    "UPDATED_AT",
    "daily",
    "RAW_DATA.PUBLIC.FINANCIAL_TRANSACTIONS",
    schema(
        ("TXN_ID", STR),
        ("LINE_NUM", I64),
        ("TXN_TYPE", STR),
        ("TXN_DATE", DATE),
        ("DOC_NUMBER", STR),
        ("ACCOUNT_NUMBER", STR),
        ("ACCOUNT_NAME", STR),
        ("POSTING_TYPE", STR),
        ("AMOUNT", dec(18, 2)),
        ("CURRENCY_CODE", STR),
        ("EXCHANGE_RATE", dec(18, 6)),
        ("HOME_AMOUNT", dec(18, 2)),
        ("CUSTOMER_REF", STR),
        ("MEMO", STR),
        ("CREATED_AT", TSTZ),
        ("UPDATED_AT", TSTZ),
    ),
)
_QB_TYPES = {
    "sale": "SalesReceipt",
    "subscription": "SalesReceipt",
    "refund": "RefundReceipt",
    "fees": "Expense",
    "cogs": "JournalEntry",
    "payroll": "Paycheck",
    "ad_spend": "Bill",
    "receipt": "Bill",
}


def _customer_orders(view: View) -> list[Record]:
    rows = []
    for opp in view.world.opportunities:
        if opp.won_ts is None or not view.changed(opp.updated_ts):
            continue
        company = view.world.companies[opp.company_id - 1]
        sub = view.world.subscriptions[opp.subscription_id - 1] if opp.subscription_id else None
        rows.append(
            {
                "ORDER_ID": f"SO-{opp.opp_id:06d}",
                "OPPORTUNITY_ID": opp.sf_id,
                "ACCOUNT_ID": company.sf_id,
                "ACCOUNT_NAME": company.name,
                "ORDER_DATE": to_date(opp.won_ts),
                "PRODUCT_NAME": "Trail Club Team",
                "SEATS": opp.seats,
                "ANNUAL_AMOUNT": money(opp.amount),
                "CURRENCY": "USD",
                "STATUS": "Activated" if sub else "Draft",
                "STRIPE_SUBSCRIPTION_ID": sub.stripe_id if sub else None,
                "CREATED_AT": opp.won_ts,
                "UPDATED_AT": opp.updated_ts,
            }
        )
    return rows


def _catalog(view: View) -> list[Record]:
    return [
        {
            "PRODUCT_ID": p.product_id,
            "NETSUITE_INTERNAL_ID": str(3_000 + p.product_id),
            "SKU": p.sku,
            "PRODUCT_NAME": p.name,
            "CATEGORY": p.category,
            "VENDOR_ID": p.vendor_id,
            "LIST_PRICE": money(p.price),
            "UNIT_COST": money(p.cost),
            "CURRENCY": "USD",
            "IS_ACTIVE": p.active,
            "ATTRIBUTES": json.dumps({"weight_grams": p.weight_grams, "shopify_product_id": p.shop_id}),
            "CREATED_AT": p.created_ts,
            "UPDATED_AT": p.updated_ts,
        }
        for p in view.world.products
        if view.changed(p.updated_ts)
    ]


def _transactions(view: View) -> list[Record]:
    """QuickBooks keeps the US entity's books: one row per journal line."""
    rows = []
    for je in view.world.journal:
        if je.entity == "US" and view.shows(je.ts):
            rows.extend(_qb_lines(view, je))
    return rows


def _qb_lines(view: View, je: JournalEntry) -> list[Record]:
    p = view.world.persons[je.pid - 1] if je.pid else None
    rate = Decimal(str(FX_TO_USD[je.currency])).quantize(Decimal("0.000001"))
    out = []
    for n, line in enumerate(je.lines, start=1):
        amount = line.debit or line.credit
        out.append(
            {
                "TXN_ID": f"QB-{je.je_id}",
                "LINE_NUM": n,
                "TXN_TYPE": _QB_TYPES[je.kind],
                "TXN_DATE": to_date(je.ts),
                "DOC_NUMBER": je.reference,
                "ACCOUNT_NUMBER": line.account,
                "ACCOUNT_NAME": ACCOUNTS[line.account][0],
                "POSTING_TYPE": "Debit" if line.debit else "Credit",
                "AMOUNT": money(amount),
                "CURRENCY_CODE": je.currency,
                "EXCHANGE_RATE": rate,
                "HOME_AMOUNT": money(usd(amount, je.currency)),
                "CUSTOMER_REF": f"{p.first} {p.last}" if p else None,
                "MEMO": je.memo,
                "CREATED_AT": je.ts,
                "UPDATED_AT": je.ts,
            }
        )
    return out


def project_snowflake(view: View) -> dict[str, ChangeSet]:
    return {
        "customer_orders": ChangeSet(_customer_orders(view)),
        "product_catalog": ChangeSet(_catalog(view)),
        "financial_transactions": ChangeSet(_transactions(view)),
    }


SNOWFLAKE = SystemDef("snowflake", "warehouse", (SF_ORDERS, SF_PRODUCTS, SF_TRANSACTIONS), project_snowflake)

# --- Redshift --------------------------------------------------------------------------------

RS_CAMPAIGNS = StreamDef(
    "marketing_campaigns",
    "parquet",
    ("campaign_id", "date"),
    "synced_at",
    "daily",
    "analytics.public.marketing_campaigns",
    schema(
        ("campaign_id", I64),
        ("campaign_name", STR),
        ("campaign_status", STR),
        ("channel_type", STR),
        ("date", DATE),
        ("impressions", I64),
        ("clicks", I64),
        ("cost", dec(12, 2)),
        ("cost_micros", I64),
        ("conversions", F64),
        ("conversion_value", dec(12, 2)),
        ("currency_code", STR),
        ("synced_at", TSTZ),
    ),
)
RS_BEHAVIOR = StreamDef(
    "customer_behavior",
    "parquet",
    ("user_id", "activity_date"),
    "updated_at",
    "real-time",
    "analytics.public.customer_behavior",
    schema(
        ("user_id", STR),
        ("activity_date", DATE),
        ("primary_platform", STR),
        ("sessions", I64),
        ("events", I64),
        ("page_views", I64),
        ("add_to_carts", I64),
        ("purchases", I64),
        ("revenue_usd", dec(12, 2)),
        ("first_seen_at", TSTZ),
        ("last_seen_at", TSTZ),
        ("updated_at", TSTZ),
    ),
)


def google_campaign_days(view: View) -> dict[tuple[int, int], list[int]]:
    """(campaign id, day) -> [impressions, clicks, cost cents, conversions, value cents] for Google Ads."""
    out: dict[tuple[int, int], list[int]] = {}
    for a in view.world.ad_days:
        camp = view.world.campaigns[a.camp_id - 1]
        if camp.platform != "google" or not view.arrived(a.day):
            continue
        cell = out.setdefault((a.camp_id, a.day), [0, 0, 0, 0, 0])
        for i, value in enumerate((a.impressions, a.clicks, a.cost, a.conversions, a.conversion_value)):
            cell[i] += value
    return out


def _marketing(view: View) -> list[Record]:
    rows = []
    start = view.world.start
    for (camp_id, day), (imp, clicks, cost, conv, value) in google_campaign_days(view).items():
        camp = view.world.campaigns[camp_id - 1]
        rows.append(
            {
                "campaign_id": camp.ext_id,
                "campaign_name": camp.name,
                "campaign_status": camp.status.lower(),
                "channel_type": camp.channel.lower(),
                "date": sim_date(start, day),
                "impressions": imp,
                "clicks": clicks,
                "cost": money(cost),
                "cost_micros": cost * 10_000,
                "conversions": float(conv),
                "conversion_value": money(value),
                "currency_code": "USD",
                "synced_at": day_start(start, day) + DAY - 1_800,
            }
        )
    return rows


def _behavior(view: View) -> list[Record]:
    """Daily activity per signed-in user; a late mobile session re-states its day's row."""
    touched = {
        (s.pid, view.day(s.start_ts)) for s in view.world.sessions if s.pid is not None and view.arrived(s.arrival_day)
    }
    groups: dict[tuple[int, int], list[Session]] = defaultdict(list)
    for s in view.world.sessions:
        key = (s.pid or 0, view.day(s.start_ts))
        if key in touched and s.arrival_day <= view.last:
            groups[key].append(s)
    return [_behavior_row(view, pid, day, sessions) for (pid, day), sessions in sorted(groups.items())]


def _behavior_row(view: View, pid: int, day: int, sessions: list[Session]) -> Record:
    w = view.world
    person = w.persons[pid - 1]
    all_hits = [h for s in sessions for h in hits(s, w)]
    orders = [w.orders[s.order_id - 1] for s in sessions if s.order_id is not None]
    platforms = sorted(s.platform for s in sessions)
    arrived = day_start(w.start, max(s.arrival_day for s in sessions))
    last_seen = max(s.end_ts for s in sessions)
    return {
        "user_id": str(person.app_user_id),
        "activity_date": sim_date(w.start, day),
        "primary_platform": max(sorted(set(platforms)), key=lambda p: (platforms.count(p), p)),
        "sessions": len(sessions),
        "events": len(all_hits),
        "page_views": sum(h.kind == "page_view" for h in all_hits),
        "add_to_carts": sum(h.kind == "add_to_cart" for h in all_hits),
        "purchases": len(orders),
        "revenue_usd": money(sum(usd(o.total, o.currency) for o in orders)),
        "first_seen_at": min(s.start_ts for s in sessions),
        "last_seen_at": last_seen,
        "updated_at": min(max(last_seen, arrived) + 60, arrived + DAY - 1),
    }


def project_redshift(view: View) -> dict[str, ChangeSet]:
    return {"marketing_campaigns": ChangeSet(_marketing(view)), "customer_behavior": ChangeSet(_behavior(view))}


REDSHIFT = SystemDef("redshift", "warehouse", (RS_CAMPAIGNS, RS_BEHAVIOR), project_redshift)

# --- BigQuery (GA4 web stream and Firebase app streams, in the BigQuery export schema) --------

_VALUE = pa.struct([("string_value", STR), ("int_value", I64), ("float_value", F64), ("double_value", F64)])
_PARAMS = pa.list_(pa.struct([("key", STR), ("value", _VALUE)]))
_DEVICE = pa.struct(
    [
        ("category", STR),
        ("mobile_brand_name", STR),
        ("mobile_model_name", STR),
        ("operating_system", STR),
        ("language", STR),
        ("web_info", pa.struct([("browser", STR), ("browser_version", STR), ("hostname", STR)])),
    ]
)
_GEO = pa.struct([("continent", STR), ("country", STR), ("region", STR), ("city", STR)])
_APP = pa.struct([("id", STR), ("version", STR), ("install_source", STR), ("firebase_app_id", STR)])
_TRAFFIC = pa.struct([("name", STR), ("medium", STR), ("source", STR)])
_ECOM = pa.struct(
    [
        ("transaction_id", STR),
        ("purchase_revenue_in_usd", F64),
        ("purchase_revenue", F64),
        ("total_item_quantity", I64),
        ("unique_items", I64),
    ]
)
_ITEMS = pa.list_(
    pa.struct([("item_id", STR), ("item_name", STR), ("item_category", STR), ("price", F64), ("quantity", I64)])
)
GA4_SCHEMA = schema(
    ("event_date", STR),
    ("event_timestamp", I64),
    ("event_name", STR),
    ("event_params", _PARAMS),
    ("event_previous_timestamp", I64),
    ("event_value_in_usd", F64),
    ("event_bundle_sequence_id", I64),
    ("user_id", STR),
    ("user_pseudo_id", STR),
    ("user_first_touch_timestamp", I64),
    ("device", _DEVICE),
    ("geo", _GEO),
    ("app_info", _APP),
    ("traffic_source", _TRAFFIC),
    ("stream_id", STR),
    ("platform", STR),
    ("ecommerce", _ECOM),
    ("items", _ITEMS),
)
BQ_WEB = StreamDef(
    "web_analytics", "parquet", (), "event_timestamp", "daily", "company-analytics.raw_data.web_analytics", GA4_SCHEMA
)
BQ_MOBILE = StreamDef(
    "mobile_analytics",
    "parquet",
    (),
    "event_timestamp",
    "real-time",
    "company-analytics.raw_data.mobile_analytics",
    GA4_SCHEMA,
)
_WEB_NAMES = {"page_view": "page_view", "session_start": "session_start"}
_APP_NAMES = {"page_view": "screen_view", "session_start": "session_start"}
_CONTINENT = {"US": "Americas", "CA": "Americas"}


def _param(key: str, value: str | int | float) -> Record:
    v: Record = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    v["string_value" if isinstance(value, str) else "int_value" if isinstance(value, int) else "double_value"] = value
    return {"key": key, "value": v}


def _ga_event(view: View, s: Session, h: Hit, first: bool) -> Record:
    w = view.world
    web = s.platform == "web"
    person = w.persons[s.pid - 1] if s.pid else None
    product = w.products[h.product_id - 1] if h.product_id else None
    params = [_param("ga_session_id", s.start_ts), _param("ga_session_number", 1 + s.sess_id % 7)]
    if product:
        key = "page_location" if web else "firebase_screen"
        params.append(
            _param(
                key, f"https://www.northwind-outfitters.com/products/{product.sku.lower()}" if web else "ProductDetail"
            )
        )
    if first:
        params += [_param("source", s.source), _param("medium", s.medium)]
        if s.campaign_id:
            params.append(_param("campaign", w.campaigns[s.campaign_id - 1].name))
    order = w.orders[s.order_id - 1] if h.kind == "purchase" and s.order_id else None
    country = COUNTRY_BY_CODE[s.country]
    return {
        "event_date": ymd(to_date(h.ts)),
        "event_timestamp": h.micros,
        "event_name": (_WEB_NAMES if web else _APP_NAMES).get(h.kind, h.kind),
        "event_params": params,
        "event_previous_timestamp": None,
        "event_value_in_usd": usd(order.total, order.currency) / 100 if order else None,
        "event_bundle_sequence_id": s.sess_id * 100 + h.seq,
        "user_id": str(person.app_user_id) if person and person.app_user_id else None,
        "user_pseudo_id": f"{int(s.device_id[:8], 16)}.{s.start_ts - 86_400 * 30}" if web else s.device_id.upper(),
        "user_first_touch_timestamp": (s.start_ts - 86_400 * 30) * 1_000_000,
        "device": _device(s),
        "geo": {
            "continent": _CONTINENT.get(s.country, "Europe"),
            "country": country.name,
            "region": None,
            "city": s.city,
        },
        "app_info": None if web else _app_info(s),
        "traffic_source": {
            "name": w.campaigns[s.campaign_id - 1].name if s.campaign_id else "(direct)",
            "medium": s.medium,
            "source": s.source,
        },
        "stream_id": "4123456789" if web else ("4223456789" if s.platform == "ios" else "4323456789"),
        "platform": s.platform.upper(),
        "ecommerce": _ecommerce(order) if order else None,
        "items": _items(view, order) if order else [],
    }


def _device(s: Session) -> Record:
    if s.platform == "web":
        browser = ("Chrome", "Safari", "Firefox", "Edge")[s.sess_id % 4]
        return {
            "category": "desktop" if s.sess_id % 3 else "mobile",
            "mobile_brand_name": None,
            "mobile_model_name": None,
            "operating_system": ("Windows", "Macintosh", "iOS")[s.sess_id % 3],
            "language": "en-us",
            "web_info": {"browser": browser, "browser_version": "120.0", "hostname": "www.northwind-outfitters.com"},
        }
    ios = s.platform == "ios"
    return {
        "category": "mobile",
        "mobile_brand_name": "Apple" if ios else "Samsung",
        "mobile_model_name": "iPhone" if ios else "Galaxy S23",
        "operating_system": "iOS" if ios else "Android",
        "language": "en-us",
        "web_info": None,
    }


def _app_info(s: Session) -> Record:
    ios = s.platform == "ios"
    return {
        "id": "com.northwindoutfitters.app",
        "version": "4.12.0" if s.sess_id % 5 else "4.11.2",
        "install_source": "com.apple.AppStore" if ios else "com.android.vending",
        "firebase_app_id": "1:123456789012:ios:abc123" if ios else "1:123456789012:android:def456",
    }


def _ecommerce(order: Order) -> Record:
    return {
        "transaction_id": f"#{order.number}",
        "purchase_revenue_in_usd": usd(order.total, order.currency) / 100,
        "purchase_revenue": order.total / 100,
        "total_item_quantity": sum(line.quantity for line in order.lines),
        "unique_items": len(order.lines),
    }


def _items(view: View, order: Order) -> list[Record]:
    products = view.world.products
    return [
        {
            "item_id": products[line.product_id - 1].sku,
            "item_name": products[line.product_id - 1].name,
            "item_category": products[line.product_id - 1].category,
            "price": line.unit_price / 100,
            "quantity": line.quantity,
        }
        for line in order.lines
    ]


def _ga_rows(view: View, web: bool) -> list[Record]:
    rows = []
    for s in view.world.sessions:
        if (s.platform == "web") != web or not view.arrived(s.arrival_day):
            continue
        for i, h in enumerate(hits(s, view.world)):
            rows.append(_ga_event(view, s, h, i == 0))
    return rows


def project_bigquery(view: View) -> dict[str, ChangeSet]:
    return {"web_analytics": ChangeSet(_ga_rows(view, True)), "mobile_analytics": ChangeSet(_ga_rows(view, False))}


BIGQUERY = SystemDef("bigquery", "warehouse", (BQ_WEB, BQ_MOBILE), project_bigquery)
