"""The company's internal model: one set of entities that every source system projects from.

All instants are Unix seconds (UTC); all money is integer minor units of the entity's currency.
Fields that name a source-system record (``stripe_id``, ``hs_ids``...) are the identity map: they say
which records in which systems belong to the same real person, which is what identity resolution is
scored against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from company.clock import day_of as _day_of


@dataclass(slots=True)
class Person:
    pid: int
    first: str
    last: str
    email: str  # canonical: lowercase, no whitespace
    alt_email: str  # a second address the person sometimes uses (never anyone's primary)
    phone: str | None
    country: str
    city: str
    region: str
    created_ts: int
    updated_ts: int
    is_prospect: bool = False
    company_id: int | None = None
    opt_in: bool = True
    prior_orders: int = 0
    prior_spent: int = 0
    # Records in source systems.
    app_user_id: int | None = None
    app_deleted_ts: int | None = None
    legacy_ids: list[int] = field(default_factory=list)
    hs_ids: list[int] = field(default_factory=list)
    hs_archived: dict[int, int] = field(default_factory=dict)  # contact id -> archived at
    hs_email_missing: bool = False
    sf_account_id: str | None = None
    sf_lead_id: str | None = None
    shop_id: int | None = None
    shop_created_ts: int | None = None
    stripe_id: str | None = None
    stripe_email: str | None = None
    stripe_created_ts: int | None = None
    netsuite_id: int | None = None
    netsuite_created_ts: int | None = None
    orders: list[int] = field(default_factory=list)
    device_id: str = ""

    @property
    def key(self) -> str:
        return f"P{self.pid:07d}"


@dataclass(slots=True)
class Company:
    cid: int
    name: str
    domain: str
    industry: str
    employees: int
    country: str
    city: str
    created_ts: int
    updated_ts: int
    sf_id: str = ""
    hs_id: int = 0
    contact_pids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Product:
    product_id: int
    sku: str
    name: str
    category: str
    price: int  # USD cents
    cost: int  # USD cents
    vendor_id: str
    created_ts: int
    updated_ts: int
    active: bool = True
    shop_id: int = 0
    variant_id: int = 0
    weight_grams: int = 500
    price_changes: list[tuple[int, int]] = field(default_factory=list)  # (ts, price before the change)

    def price_at(self, ts: int) -> int:
        """The list price in force at `ts` (events must show the price of their own time)."""
        price = self.price
        for changed, before in reversed(self.price_changes):
            if ts >= changed:
                break
            price = before
        return price


@dataclass(slots=True)
class Line:
    product_id: int
    quantity: int
    unit_price: int  # minor units of the order currency


@dataclass(slots=True)
class Refund:
    refund_id: int
    ts: int
    amount: int
    reason: str
    restock: bool


@dataclass(slots=True)
class Order:
    oid: int
    number: int
    pid: int
    ts: int
    currency: str
    entity: str
    lines: list[Line]
    subtotal: int
    discount: int
    shipping: int
    total: int
    channel: str  # web | mobile | partner
    session_id: int | None
    campaign_id: int | None
    warehouse: str
    guest: bool
    city: str = ""  # the shipping address as it was when the order was placed
    region: str = ""
    partner_id: str | None = None
    charge_ids: list[int] = field(default_factory=list)
    fulfilled_ts: int | None = None
    delivered_ts: int | None = None
    cancelled_ts: int | None = None
    refunds: list[Refund] = field(default_factory=list)
    updated_ts: int = 0
    tracking: str = ""
    carrier: str = ""

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)


@dataclass(slots=True)
class Charge:
    cid: int
    stripe_id: str
    pid: int
    amount: int
    currency: str
    entity: str
    ts: int
    succeeded: bool
    failure_code: str | None
    order_id: int | None
    subscription_id: int | None
    invoice_id: str | None
    card_brand: str
    card_last4: str
    fee: int
    refunds: list[Refund] = field(default_factory=list)
    updated_ts: int = 0

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)


@dataclass(slots=True)
class Subscription:
    sid: int
    stripe_id: str
    pid: int
    plan: str
    quantity: int
    created_ts: int
    anchor_day: int  # day of month the subscription renews on
    period_start: int
    period_end: int
    status: str = "active"  # active | past_due | canceled
    cancel_at_period_end: bool = False
    canceled_ts: int | None = None
    ended_ts: int | None = None
    failed_attempts: int = 0
    opportunity_id: int | None = None
    updated_ts: int = 0
    plan_changes: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, from, to)


@dataclass(slots=True)
class Lead:
    lid: int
    pid: int
    sf_id: str
    company_name: str
    title: str
    source: str
    status: str
    created_ts: int
    updated_ts: int
    converted_opp: int | None = None
    deleted_ts: int | None = None


@dataclass(slots=True)
class Opportunity:
    opp_id: int
    sf_id: str
    company_id: int
    contact_pid: int
    name: str
    stage: str
    seats: int
    amount: int  # USD cents, annual contract value
    close_date: date
    created_ts: int
    updated_ts: int
    source: str
    hs_id: int | None = None
    won_ts: int | None = None
    subscription_id: int | None = None
    deleted_ts: int | None = None


@dataclass(slots=True)
class Campaign:
    camp_id: int
    platform: str  # google | facebook
    ext_id: int
    name: str
    channel: str
    objective: str
    daily_budget: int  # USD cents
    cpc: int  # USD cents per click, the campaign's typical price
    created_ts: int
    updated_ts: int
    status: str = "ENABLED"
    units: list[int] = field(default_factory=list)


@dataclass(slots=True)
class AdUnit:
    unit_id: int
    camp_id: int
    ext_id: int
    name: str
    created_ts: int


@dataclass(slots=True)
class AdDay:
    unit_id: int
    camp_id: int
    day: int
    impressions: int
    clicks: int
    cost: int  # USD cents
    conversions: int = 0
    conversion_value: int = 0  # USD cents


@dataclass(slots=True)
class Session:
    sess_id: int
    pid: int | None
    device_id: str
    platform: str  # web | ios | android
    start_ts: int
    pages: list[int]  # product ids viewed, in order
    source: str
    medium: str
    campaign_id: int | None
    unit_id: int | None
    country: str
    city: str
    arrival_day: int
    added_to_cart: bool = False
    order_id: int | None = None
    signed_up: bool = False
    logged_in: bool = False
    end_ts: int = 0


@dataclass(slots=True)
class Organisation:
    org_id: int
    code: str
    name: str
    parent: str | None
    wid: str
    manager_eid: int | None = None


@dataclass(slots=True)
class Position:
    pos_id: int
    wid: str
    org_code: str
    job_id: str
    title: str
    created_ts: int
    updated_ts: int
    eid: int | None = None


@dataclass(slots=True)
class Employee:
    eid: int
    wid: str
    first: str
    last: str
    email: str
    phone: str
    org_code: str
    pos_id: int
    job_id: str
    title: str
    salary: int  # annual, USD cents
    manager_eid: int | None
    hire_date: date
    country: str
    updated_ts: int
    term_date: date | None = None


@dataclass(slots=True)
class Payroll:
    payroll_id: int
    eid: int
    period_start: date
    period_end: date
    pay_date: date
    gross: int
    tax: int
    benefits: int
    net: int
    created_ts: int


@dataclass(slots=True)
class Stock:
    product_id: int
    warehouse: str
    on_hand: int
    reserved: int
    reorder_point: int
    updated_ts: int
    deleted_ts: int | None = None


@dataclass(slots=True)
class Movement:
    mid: int
    product_id: int
    warehouse: str
    kind: str  # SHIP | RECEIPT | RETURN | ADJUST
    quantity: int  # signed
    unit_cost: int
    reference: str
    ts: int
    on_hand_after: int


@dataclass(slots=True)
class PurchaseOrder:
    po_id: int
    number: str
    vendor_id: str
    product_id: int
    warehouse: str
    quantity: int
    unit_cost: int
    created_ts: int
    expected: date
    received_ts: int | None = None
    updated_ts: int = 0


@dataclass(slots=True)
class JournalLine:
    account: str
    debit: int
    credit: int


@dataclass(slots=True)
class JournalEntry:
    je_id: int
    ts: int
    entity: str
    kind: str  # sale | refund | subscription | fees | cogs | payroll | ad_spend | receipt
    currency: str  # transaction currency
    reference: str
    memo: str
    lines: list[JournalLine]
    pid: int | None = None


@dataclass(slots=True)
class Device:
    device_id: str
    warehouse: str
    kind: str  # cold_room | ambient
    firmware: str
    installed_ts: int


@dataclass(slots=True)
class Reading:
    device_id: str
    ts: int
    temperature_c: float
    humidity_pct: float
    battery_pct: float
    arrival_day: int


@dataclass(slots=True)
class DeviceStatus:
    device_id: str
    ts: int
    status: str
    rssi: int
    firmware: str
    arrival_day: int


@dataclass(slots=True)
class Review:
    rid: int
    product_id: int
    pid: int
    order_id: int
    rating: int
    title: str
    body: str
    ts: int
    updated_ts: int
    helpful_votes: int = 0
    deleted_ts: int | None = None


@dataclass(slots=True)
class Preference:
    pid: int
    theme: str
    language: str
    email_opt_in: bool
    categories: list[str]
    currency: str
    updated_ts: int
    version: int = 1


@dataclass(slots=True)
class UserEvent:
    """A backend account event (signup, login, profile update, erasure) as the app records it."""

    ts: int
    pid: int
    kind: str
    arrival_day: int
    session_id: int | None = None
    data: dict[str, str | bool | None] = field(default_factory=dict)  # attributes as they were then


@dataclass
class World:
    seed: int
    scale: float
    start: date
    last_day: int
    persons: list[Person] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    units: list[AdUnit] = field(default_factory=list)
    ad_days: list[AdDay] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    user_events: list[UserEvent] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    employees: list[Employee] = field(default_factory=list)
    payroll: list[Payroll] = field(default_factory=list)
    stock: dict[tuple[int, str], Stock] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    statuses: list[DeviceStatus] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    preferences: dict[int, Preference] = field(default_factory=dict)
    # The running tally that keeps the Stripe-to-CRM email match share on target.
    stripe_matched: int = 0
    legacy_deleted: dict[int, int] = field(default_factory=dict)  # legacy cust id -> deleted at

    mrr_by_day: dict[int, tuple[int, int]] = field(default_factory=dict)  # (USD cents, live subs) at day end
    headcount_by_day: dict[int, dict[str, int]] = field(default_factory=dict)  # org code -> active

    def day_of(self, ts: int) -> int:
        return _day_of(self.start, ts)
