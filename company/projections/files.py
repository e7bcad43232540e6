"""File drops: CSV files as partners, vendors, legacy jobs and BI exports leave them in SFTP, FTP,
Google Cloud Storage, Azure Blob Storage and the S3 landing bucket."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from company.catalog import PARTNERS, VENDORS
from company.clock import iso_z, sim_date, to_date, ymd
from company.model import Order, Session
from company.projections.common import money_str, usd
from company.projections.timeline import hits
from company.rand import unit
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View


def _csv(
    stream: str, native: str, frequency: str, pk: tuple[str, ...], cursor: str, cols: str, dialect: str = "unix"
) -> StreamDef:
    return StreamDef(stream, "csv", pk, cursor, frequency, native, columns=tuple(cols.split("|")), csv_dialect=dialect)


SFTP_VENDOR = _csv(
    "vendor_data",
    "/outbound/vendor_data/vendor_feed_YYYYMMDD.csv",
    "daily",
    ("vendor_id", "sku", "as_of_date"),
    "as_of_date",
    "vendor_id|vendor_name|vendor_sku|sku|unit_cost|currency|qty_available|lead_time_days|as_of_date",
)
SFTP_PARTNER = _csv(
    "partner_reports",
    "/outbound/partner_reports/weekly_partner_sales_YYYYMMDD.csv",
    "weekly",
    ("partner_id", "week_start"),
    "week_end",
    "partner_id|partner_name|week_start|week_end|orders|units|gross_sales|refunds|net_sales|commission_rate|commission|currency",
)
FTP_LEGACY = _csv(
    "legacy_reports",
    "/reports/DAILY_SALES_MMDDYYYY.CSV",
    "daily",
    ("REPORT_DATE", "REGION", "CHANNEL"),
    "REPORT_DATE",
    "REPORT_DATE|REGION|CHANNEL|ORDER_COUNT|GROSS_SALES_USD|REFUNDS_USD|NET_SALES_USD",
    dialect="excel",
)
GCS_BQ = _csv(
    "bigquery_exports",
    "gs://company-gcs-data/bigquery_exports/sessions_by_source_YYYYMMDD.csv",
    "daily",
    ("date", "source", "medium", "campaign", "platform"),
    "date",
    "date|source|medium|campaign|platform|sessions|users|transactions|revenue_usd",
)
GCS_ANALYTICS = _csv(
    "analytics_exports",
    "gs://company-gcs-data/analytics_exports/events_summary_YYYYMMDD.csv",
    "daily",
    ("event_date", "event_name", "platform"),
    "event_date",
    "event_date|event_name|platform|event_count|total_users",
)
AZ_POWERBI = _csv(
    "powerbi_exports",
    "companyazurestorage/company-data/powerbi_exports/Sales by Category.csv",
    "daily",
    ("Date", "Product Category", "Region"),
    "Date",
    "Date|Product Category|Region|Orders|Units Sold|Revenue (USD)",
)
AZ_DYNAMICS = _csv(
    "dynamics_exports",
    "companyazurestorage/company-data/dynamics_exports/PurchaseOrderLines.csv",
    "daily",
    ("PurchaseOrderNumber", "LineNumber"),
    "ModifiedDateTime",
    "PurchaseOrderNumber|LineNumber|VendorAccountNumber|VendorName|ItemNumber|OrderedQuantity|PurchasePrice|"
    "CurrencyCode|ReceivingWarehouseId|RequestedDeliveryDate|PurchaseOrderStatus|ModifiedDateTime",
)
S3_LANDING = _csv(
    "landing",
    "s3://company-landing/3pl/shipments/shipments_YYYYMMDD.csv",
    "daily",
    ("shipment_id",),
    "shipped_at",
    "shipment_id|order_number|warehouse_code|carrier|tracking_number|ship_country|package_count|weight_kg|shipped_at",
)
_VENDOR_NAMES = dict(VENDORS)


def _days(view: View) -> range:
    return range(max(0, view.first), view.last + 1)


def _vendor_feed(view: View) -> list[Record]:
    """Vendors send stock and cost on business days."""
    w = view.world
    rows = []
    for day in _days(view):
        when = sim_date(w.start, day)
        if when.weekday() >= 5:
            continue
        for p in w.products:
            if not p.active:
                continue
            drift = 1 + (unit(view.seed, "vendor-cost", p.product_id, day // 7) - 0.5) * 0.04
            rows.append(
                {
                    "vendor_id": p.vendor_id,
                    "vendor_name": _VENDOR_NAMES[p.vendor_id],
                    "vendor_sku": f"{p.vendor_id}-{p.product_id:06d}",
                    "sku": p.sku,
                    "unit_cost": money_str(round(p.cost * drift)),
                    "currency": "USD",
                    "qty_available": int(unit(view.seed, "vendor-qty", p.product_id, day) * 5_000),
                    "lead_time_days": 3 + p.product_id % 5,
                    "as_of_date": when.isoformat(),
                }
            )
    return rows


def _partner_report(view: View) -> list[Record]:
    """Weekly, on Mondays, covering the week before."""
    w = view.world
    rows = []
    for day in _days(view):
        when = sim_date(w.start, day)
        if when.weekday() != 0:
            continue
        week_start = when - timedelta(days=7)
        for partner_id, name, rate in PARTNERS:
            orders = [o for o in w.orders if o.partner_id == partner_id and week_start <= to_date(o.ts) < when]
            rows.append(_partner_row(partner_id, name, rate, week_start, orders))
    return rows


def _partner_row(partner_id: str, name: str, rate: float, week_start: date, orders: list[Order]) -> Record:
    gross = sum(usd(o.total, o.currency) for o in orders)
    refunds = sum(usd(o.refunded, o.currency) for o in orders)
    return {
        "partner_id": partner_id,
        "partner_name": name,
        "week_start": week_start.isoformat(),
        "week_end": (week_start + timedelta(days=6)).isoformat(),
        "orders": len(orders),
        "units": sum(li.quantity for o in orders for li in o.lines),
        "gross_sales": money_str(gross),
        "refunds": money_str(refunds),
        "net_sales": money_str(gross - refunds),
        "commission_rate": f"{rate:.2f}",
        "commission": money_str(round((gross - refunds) * rate)),
        "currency": "USD",
    }


def _legacy_report(view: View) -> list[Record]:
    """The mainframe's end-of-day sales summary: US dates, upper-case headers, CRLF lines."""
    w = view.world
    cells: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in w.orders:
        day, region = view.day(o.ts), "NA" if o.entity == "US" else "EMEA"
        if view.arrived(day) and day >= 0:
            cells[(day, region, o.channel.upper())][0] += 1
            cells[(day, region, o.channel.upper())][1] += usd(o.total, o.currency)
        for r in o.refunds:
            rday = view.day(r.ts)
            if view.arrived(rday) and rday >= 0:
                cells[(rday, region, o.channel.upper())][2] += usd(r.amount, o.currency)
    return [
        {
            "REPORT_DATE": sim_date(w.start, day).strftime("%m/%d/%Y"),
            "REGION": region,
            "CHANNEL": channel,
            "ORDER_COUNT": n,
            "GROSS_SALES_USD": money_str(gross),
            "REFUNDS_USD": money_str(refunds),
            "NET_SALES_USD": money_str(gross - refunds),
        }
        for (day, region, channel), (n, gross, refunds) in sorted(cells.items())
    ]


@dataclass
class _Traffic:
    sessions: int = 0
    users: list[str] = field(default_factory=list)
    transactions: int = 0
    revenue: int = 0


def _restated(view: View) -> list[Session]:
    """Sessions of every date that received data in the window: a late upload re-delivers its whole date."""
    dates = {view.day(s.start_ts) for s in view.world.sessions if view.arrived(s.arrival_day)}
    return [s for s in view.world.sessions if s.arrival_day <= view.last and view.day(s.start_ts) in dates]


def _sessions_by_source(view: View) -> list[Record]:
    w = view.world
    cells: dict[tuple[int, str, str, str, str], _Traffic] = defaultdict(_Traffic)
    for s in _restated(view):
        campaign = w.campaigns[s.campaign_id - 1].name if s.campaign_id else "(not set)"
        cell = cells[(view.day(s.start_ts), s.source, s.medium, campaign, s.platform)]
        cell.sessions += 1
        if s.device_id not in cell.users:
            cell.users.append(s.device_id)
        if s.order_id:
            order = w.orders[s.order_id - 1]
            cell.transactions += 1
            cell.revenue += usd(order.total, order.currency)
    return [
        {
            "date": sim_date(w.start, day).isoformat(),
            "source": source,
            "medium": medium,
            "campaign": campaign,
            "platform": platform,
            "sessions": cell.sessions,
            "users": len(cell.users),
            "transactions": cell.transactions,
            "revenue_usd": money_str(cell.revenue),
        }
        for (day, source, medium, campaign, platform), cell in sorted(cells.items())
    ]


def _events_summary(view: View) -> list[Record]:
    w = view.world
    counts: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
    users: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for s in _restated(view):
        for h in hits(s, w):
            name = h.kind if s.platform == "web" or h.kind != "page_view" else "screen_view"
            key = (view.day(h.ts), name, s.platform.upper())
            counts[key][0] += 1
            users[key].add(s.device_id)
    return [
        {
            "event_date": ymd(sim_date(w.start, day)),
            "event_name": name,
            "platform": platform,
            "event_count": c[0],
            "total_users": len(users[(day, name, platform)]),
        }
        for (day, name, platform), c in sorted(counts.items())
    ]


def _powerbi(view: View) -> list[Record]:
    w = view.world
    cells: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in w.orders:
        day = view.day(o.ts)
        if not view.arrived(day) or day < 0 or o.cancelled_ts:
            continue
        region = "North America" if o.entity == "US" else "Europe"
        for li in o.lines:
            cell = cells[(day, w.products[li.product_id - 1].category, region)]
            cell[1] += li.quantity
            cell[2] += usd(li.unit_price * li.quantity, o.currency)
        first = w.products[o.lines[0].product_id - 1].category
        cells[(day, first, region)][0] += 1
    return [
        {
            "Date": sim_date(w.start, day).strftime("%m/%d/%Y"),
            "Product Category": category,
            "Region": region,
            "Orders": n,
            "Units Sold": units,
            "Revenue (USD)": f"{revenue / 100:,.2f}",
        }
        for (day, category, region), (n, units, revenue) in sorted(cells.items())
    ]


def _dynamics(view: View) -> list[Record]:
    w = view.world
    rows = []
    for po in w.purchase_orders:
        for status, ts in (("Open order", po.created_ts), ("Received", po.received_ts)):
            if ts is None or not view.shows(ts):
                continue
            if view.initial and status == "Open order" and po.received_ts and view.shows(po.received_ts):
                continue  # an export shows each line once, in its latest state
            rows.append(
                {
                    "PurchaseOrderNumber": po.number,
                    "LineNumber": 1,
                    "VendorAccountNumber": po.vendor_id,
                    "VendorName": _VENDOR_NAMES[po.vendor_id],
                    "ItemNumber": w.products[po.product_id - 1].sku,
                    "OrderedQuantity": po.quantity,
                    "PurchasePrice": money_str(po.unit_cost),
                    "CurrencyCode": "USD",
                    "ReceivingWarehouseId": po.warehouse,
                    "RequestedDeliveryDate": po.expected.isoformat(),
                    "PurchaseOrderStatus": status,
                    "ModifiedDateTime": iso_z(ts),
                }
            )
    return rows


def _grams(view: View, order: Order) -> int:
    return sum(view.world.products[li.product_id - 1].weight_grams * li.quantity for li in order.lines)


def _shipments(view: View) -> list[Record]:
    w = view.world
    return [
        {
            "shipment_id": f"SHP-{o.oid:08d}",
            "order_number": f"#{o.number}",
            "warehouse_code": o.warehouse,
            "carrier": o.carrier,
            "tracking_number": o.tracking,
            "ship_country": w.persons[o.pid - 1].country,
            "package_count": 1 + (len(o.lines) > 2),
            "weight_kg": f"{_grams(view, o) / 1000:.2f}",
            "shipped_at": iso_z(o.fulfilled_ts),
        }
        for o in w.orders
        if o.fulfilled_ts is not None and view.shows(o.fulfilled_ts)
    ]


SFTP = SystemDef(
    "sftp",
    "files",
    (SFTP_VENDOR, SFTP_PARTNER),
    lambda v: {"vendor_data": ChangeSet(_vendor_feed(v)), "partner_reports": ChangeSet(_partner_report(v))},
)
FTP = SystemDef("ftp", "files", (FTP_LEGACY,), lambda v: {"legacy_reports": ChangeSet(_legacy_report(v))})
GCS = SystemDef(
    "google_cloud_storage",
    "files",
    (GCS_BQ, GCS_ANALYTICS),
    lambda v: {
        "bigquery_exports": ChangeSet(_sessions_by_source(v)),
        "analytics_exports": ChangeSet(_events_summary(v)),
    },
)
AZURE = SystemDef(
    "azure_blob_storage",
    "files",
    (AZ_POWERBI, AZ_DYNAMICS),
    lambda v: {"powerbi_exports": ChangeSet(_powerbi(v)), "dynamics_exports": ChangeSet(_dynamics(v))},
)
S3 = SystemDef("s3", "files", (S3_LANDING,), lambda v: {"landing": ChangeSet(_shipments(v))})
