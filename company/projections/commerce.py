"""Commerce and payments: Shopify Admin REST, Stripe API objects, NetSuite REST records, SAP OData v2."""

from __future__ import annotations

from company import ids
from company.catalog import CATEGORIES, COUNTRY_BY_CODE, PLAN_BY_CODE, VENDORS
from company.clock import iso_z, shop_local
from company.model import Charge, Order, Person, Product, Refund, Subscription
from company.noise import email_variant, phone_variant, present
from company.projections.common import money_float, money_str, usd
from company.projections.sql import order_status
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

_VENDOR_NAMES = dict(VENDORS)
_CATEGORY_IDS = sorted(CATEGORIES)

# --- Shopify ---------------------------------------------------------------------------------

SHOP_ORDERS = StreamDef("orders", "jsonl", ("id",), "updated_at", "hourly", "admin/api/2024-01/orders.json")
SHOP_PRODUCTS = StreamDef("products", "jsonl", ("id",), "updated_at", "daily", "admin/api/2024-01/products.json")
SHOP_CUSTOMERS = StreamDef("customers", "jsonl", ("id",), "updated_at", "daily", "admin/api/2024-01/customers.json")
_SOURCE_NAME = {"web": "web", "mobile": "iphone", "partner": "trailmarket"}


def _address(p: Person, city: str | None = None, region: str | None = None) -> Record:
    country = COUNTRY_BY_CODE[p.country]
    return {
        "first_name": p.first,
        "last_name": p.last,
        "address1": f"{100 + p.pid % 800} Main Street",
        "city": city or p.city,
        "province_code": region or p.region,
        "country_code": p.country,
        "country": country.name,
        "zip": f"{10_000 + p.pid % 89_999}",
        "phone": p.phone,
    }


def _shop_customer_core(view: View, p: Person) -> Record:
    assert p.shop_id is not None
    return {
        "id": p.shop_id,
        "email": email_variant(view.seed, "shopify", p.shop_id, p.email),
        "first_name": p.first,
        "last_name": p.last,
        "phone": phone_variant(view.seed, "shopify", p.shop_id, p.phone),
        "admin_graphql_api_id": ids.shopify_gid("Customer", p.shop_id),
    }


def _shop_line(product: Product, line_id: int, quantity: int, price: int) -> Record:
    return {
        "id": line_id,
        "product_id": product.shop_id,
        "variant_id": product.variant_id,
        "sku": product.sku,
        "title": product.name,
        "name": product.name,
        "quantity": quantity,
        "price": money_str(price),
        "grams": product.weight_grams,
        "requires_shipping": True,
        "taxable": True,
        "fulfillment_status": None,
    }


def _shop_refund(order: Order, r: Refund) -> Record:
    return {
        "id": ids.shopify(6, r.refund_id),
        "order_id": ids.shopify(4, order.oid),
        "created_at": shop_local(r.ts),
        "processed_at": shop_local(r.ts),
        "note": r.reason,
        "restock": r.restock,
        "transactions": [
            {"kind": "refund", "status": "success", "amount": money_str(r.amount), "currency": order.currency}
        ],
    }


def _financial_status(order: Order) -> str:
    if not order.refunds:
        return "paid"
    return "refunded" if order.refunded >= order.total else "partially_refunded"


def _shop_order(view: View, order: Order) -> Record:
    w = view.world
    p = w.persons[order.pid - 1]
    oid = ids.shopify(4, order.oid)
    lines = [
        _shop_line(w.products[li.product_id - 1], ids.shopify(5, order.oid * 4 + i), li.quantity, li.unit_price)
        for i, li in enumerate(order.lines)
    ]
    email = email_variant(view.seed, "shopify-order", order.oid, p.email)
    return {
        "id": oid,
        "admin_graphql_api_id": ids.shopify_gid("Order", oid),
        "name": f"#{order.number}",
        "order_number": order.number,
        "email": email,
        "contact_email": email,
        "created_at": shop_local(order.ts),
        "processed_at": shop_local(order.ts),
        "updated_at": shop_local(order.updated_ts),
        "cancelled_at": shop_local(order.cancelled_ts) if order.cancelled_ts else None,
        "cancel_reason": "customer" if order.cancelled_ts else None,
        "closed_at": shop_local(order.fulfilled_ts) if order.fulfilled_ts else None,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "subtotal_price": money_str(order.subtotal - order.discount),
        "total_line_items_price": money_str(order.subtotal),
        "total_discounts": money_str(order.discount),
        "total_shipping_price_set": {
            "shop_money": {"amount": money_str(order.shipping), "currency_code": order.currency}
        },
        "total_tax": "0.00",
        "taxes_included": True,
        "total_price": money_str(order.total),
        "financial_status": _financial_status(order),
        "fulfillment_status": "fulfilled" if order.fulfilled_ts else None,
        "source_name": _SOURCE_NAME[order.channel],
        "landing_site": f"/?utm_source={w.campaigns[order.campaign_id - 1].platform}" if order.campaign_id else None,
        "test": False,
        "customer": None if order.guest else _shop_customer_core(view, p),
        "billing_address": _address(p, order.city, order.region),
        "shipping_address": _address(p, order.city, order.region),
        "line_items": lines,
        "refunds": [_shop_refund(order, r) for r in order.refunds],
        "tags": "partner" if order.channel == "partner" else "",
    }


def _shop_product(view: View, product: Product) -> Record:
    return {
        "id": product.shop_id,
        "admin_graphql_api_id": ids.shopify_gid("Product", product.shop_id),
        "title": product.name,
        "body_html": f"<p>The {product.name} from our {product.category.lower()} line.</p>",
        "vendor": _VENDOR_NAMES[product.vendor_id],
        "product_type": product.category,
        "handle": product.sku.lower(),
        "status": "active" if product.active else "archived",
        "created_at": shop_local(product.created_ts),
        "updated_at": shop_local(product.updated_ts),
        "published_at": shop_local(product.created_ts) if product.active else None,
        "tags": product.category.lower(),
        "variants": [
            {
                "id": product.variant_id,
                "product_id": product.shop_id,
                "title": "Default Title",
                "sku": product.sku,
                "price": money_str(product.price),
                "grams": product.weight_grams,
                "weight": round(product.weight_grams / 1000, 3),
                "weight_unit": "kg",
                "requires_shipping": True,
                "taxable": True,
                "created_at": shop_local(product.created_ts),
                "updated_at": shop_local(product.updated_ts),
            }
        ],
        "options": [{"name": "Title", "values": ["Default Title"]}],
    }


def _shop_customer(view: View, p: Person) -> Record:
    w = view.world
    orders = [w.orders[o - 1] for o in p.orders if not w.orders[o - 1].guest]
    spent = p.prior_spent + sum(usd(o.total - o.refunded, o.currency) for o in orders)
    last = orders[-1] if orders else None
    rec = _shop_customer_core(view, p)
    rec.update(
        {
            "accepts_marketing": p.opt_in,
            "created_at": shop_local(p.shop_created_ts or p.created_ts),
            "updated_at": shop_local(_shop_customer_updated(view, p)),
            "orders_count": p.prior_orders + len(orders),
            "state": "enabled",
            "total_spent": money_str(spent),
            "last_order_id": ids.shopify(4, last.oid) if last else None,
            "last_order_name": f"#{last.number}" if last else None,
            "verified_email": True,
            "tax_exempt": False,
            "currency": "USD",
            "tags": "",
            "default_address": _address(p) if present(view.seed, "shopify", p.pid, "address", 0.1) else None,
        }
    )
    return rec


def _shop_customer_updated(view: View, p: Person) -> int:
    w = view.world
    stamps = [p.updated_ts, p.shop_created_ts or 0]
    stamps += [w.orders[o - 1].updated_ts for o in p.orders]
    return max(stamps)


def project_shopify(view: View) -> dict[str, ChangeSet]:
    w = view.world
    customers = [
        _shop_customer(view, p)
        for p in w.persons
        if p.shop_id is not None and view.changed(_shop_customer_updated(view, p))
    ]
    return {
        "orders": ChangeSet([_shop_order(view, o) for o in w.orders if view.changed(o.updated_ts)]),
        "products": ChangeSet([_shop_product(view, p) for p in w.products if view.changed(p.updated_ts)]),
        "customers": ChangeSet(customers),
    }


SHOPIFY = SystemDef("shopify", "saas", (SHOP_ORDERS, SHOP_PRODUCTS, SHOP_CUSTOMERS), project_shopify)

# --- Stripe ----------------------------------------------------------------------------------

STRIPE_CHARGES = StreamDef("charges", "jsonl", ("id",), "updated", "real-time", "v1/charges")
STRIPE_CUSTOMERS = StreamDef("customers", "jsonl", ("id",), "updated", "hourly", "v1/customers")
STRIPE_SUBSCRIPTIONS = StreamDef("subscriptions", "jsonl", ("id",), "updated", "hourly", "v1/subscriptions")


def _stripe_refund(view: View, ch: Charge, r: Refund) -> Record:
    return {
        "id": ids.stripe(view.seed, "re", r.refund_id),
        "object": "refund",
        "amount": r.amount,
        "charge": ch.stripe_id,
        "created": r.ts,
        "currency": ch.currency.lower(),
        "reason": r.reason,
        "status": "succeeded",
        "balance_transaction": ids.stripe(view.seed, "txn", 1_000_000 + r.refund_id),
    }


def _list(data: list[Record], url: str) -> Record:
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


def _outcome(ch: Charge) -> Record:
    return {
        "network_status": "approved_by_network" if ch.succeeded else "declined_by_network",
        "risk_level": "normal",
        "seller_message": "Payment complete." if ch.succeeded else "The bank did not return any further details.",
        "type": "authorized" if ch.succeeded else "issuer_declined",
    }


def _card(ch: Charge, p: Person) -> Record:
    card = {"brand": ch.card_brand, "last4": ch.card_last4, "exp_month": 1 + ch.pid % 12, "exp_year": 2027 + ch.pid % 4}
    return {"type": "card", "card": {**card, "country": p.country}}


def _charge(view: View, ch: Charge) -> Record:
    w = view.world
    p = w.persons[ch.pid - 1]
    refunds = [_stripe_refund(view, ch, r) for r in ch.refunds]
    order = w.orders[ch.order_id - 1] if ch.order_id else None
    return {
        "id": ch.stripe_id,
        "object": "charge",
        "amount": ch.amount,
        "amount_captured": ch.amount if ch.succeeded else 0,
        "amount_refunded": ch.refunded,
        "balance_transaction": ids.stripe(view.seed, "txn", ch.cid) if ch.succeeded else None,
        "billing_details": {
            "email": p.stripe_email,
            "name": f"{p.first} {p.last}",
            "phone": None,
            "address": {"country": p.country},
        },
        "captured": ch.succeeded,
        "created": ch.ts,
        "currency": ch.currency.lower(),
        "customer": p.stripe_id,
        "description": f"Order #{order.number}" if order else "Subscription update",
        "disputed": False,
        "failure_code": ch.failure_code,
        "failure_message": "Your card was declined." if ch.failure_code else None,
        "invoice": ch.invoice_id,
        "livemode": False,
        "metadata": {"order_number": str(order.number)} if order else {},
        "outcome": _outcome(ch),
        "paid": ch.succeeded,
        "payment_intent": ids.stripe(view.seed, "pi", ch.cid),
        "payment_method": ids.stripe(view.seed, "pm", ch.pid),
        "payment_method_details": _card(ch, p),
        "receipt_email": p.stripe_email,
        "refunded": ch.succeeded and ch.refunded >= ch.amount,
        "refunds": _list(refunds, f"/v1/charges/{ch.stripe_id}/refunds"),
        "status": "succeeded" if ch.succeeded else "failed",
        "updated": ch.updated_ts,
    }


def _stripe_customer(view: View, p: Person, latest: dict[int, Subscription]) -> Record:
    assert p.stripe_id is not None and p.stripe_created_ts is not None
    seed = view.seed
    sub = latest.get(p.pid)
    delinquent = sub is not None and sub.status == "past_due"
    return {
        "id": p.stripe_id,
        "object": "customer",
        "address": {"city": p.city, "country": p.country, "line1": None, "postal_code": None, "state": p.region},
        "balance": 0,
        "created": p.stripe_created_ts,
        "currency": COUNTRY_BY_CODE[p.country].currency.lower(),
        "default_source": None,
        "delinquent": delinquent,
        "description": None,
        "email": p.stripe_email,
        "invoice_prefix": ids.stripe(seed, "inv", p.pid)[4:12].upper(),
        "livemode": False,
        "metadata": {"app_user_id": str(p.app_user_id)}
        if p.app_user_id and present(seed, "stripe", p.pid, "meta", 0.3)
        else {},
        "name": f"{p.first} {p.last}" if present(seed, "stripe", p.pid, "name", 0.05) else None,
        "phone": phone_variant(seed, "stripe", p.pid, p.phone),
        "preferred_locales": ["en"],
        "tax_exempt": "none",
        "updated": _customer_updated(p, latest),
    }


def _customer_updated(p: Person, latest: dict[int, Subscription]) -> int:
    """Profile edits and dunning (the `delinquent` flag follows the subscription) both update a customer."""
    sub = latest.get(p.pid)
    return max(p.stripe_created_ts or 0, p.updated_ts, sub.updated_ts if sub else 0)


def _price(plan: str) -> Record:
    info = PLAN_BY_CODE[plan]
    return {
        "id": f"price_{plan}_monthly",
        "object": "price",
        "active": True,
        "currency": "usd",
        "product": f"prod_trailclub_{plan}",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": info.unit_amount,
        "unit_amount_decimal": str(info.unit_amount),
    }


def _item(view: View, sub: Subscription, price: Record) -> Record:
    return {
        "id": ids.stripe(view.seed, "si", sub.sid),
        "object": "subscription_item",
        "created": sub.created_ts,
        "price": price,
        "quantity": sub.quantity,
        "subscription": sub.stripe_id,
    }


def _plan(price: Record) -> Record:
    """The legacy `plan` mirror of the price that Stripe still returns on subscriptions."""
    keep = {"id": price["id"], "amount": price["unit_amount"], "product": price["product"]}
    return {**keep, "object": "plan", "active": True, "currency": "usd", "interval": "month", "interval_count": 1}


def _subscription(view: View, sub: Subscription, invoices: dict[int, Charge]) -> Record:
    w = view.world
    p = w.persons[sub.pid - 1]
    latest = invoices.get(sub.sid)
    price = _price(sub.plan)
    opp = w.opportunities[sub.opportunity_id - 1] if sub.opportunity_id else None
    return {
        "id": sub.stripe_id,
        "object": "subscription",
        "billing_cycle_anchor": sub.created_ts,
        "cancel_at": sub.period_end if sub.cancel_at_period_end else None,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": sub.canceled_ts,
        "collection_method": "charge_automatically",
        "created": sub.created_ts,
        "currency": "usd",
        "current_period_end": sub.period_end,
        "current_period_start": sub.period_start,
        "customer": p.stripe_id,
        "ended_at": sub.ended_ts,
        "items": _list([_item(view, sub, price)], f"/v1/subscription_items?subscription={sub.stripe_id}"),
        "latest_invoice": latest.invoice_id if latest else None,
        "livemode": False,
        "metadata": {"salesforce_opportunity_id": opp.sf_id} if opp else {},
        "plan": _plan(price),
        "quantity": sub.quantity,
        "start_date": sub.created_ts,
        "status": sub.status,
        "trial_end": None,
        "trial_start": None,
        "updated": sub.updated_ts,
    }


def project_stripe(view: View) -> dict[str, ChangeSet]:
    w = view.world
    latest_sub = {s.pid: s for s in w.subscriptions}
    invoices = {c.subscription_id: c for c in w.charges if c.subscription_id is not None}
    customers = [
        _stripe_customer(view, p, latest_sub)
        for p in w.persons
        if p.stripe_id and p.stripe_created_ts is not None and view.changed(_customer_updated(p, latest_sub))
    ]
    subs = [_subscription(view, s, invoices) for s in w.subscriptions if view.changed(s.updated_ts)]
    return {
        "charges": ChangeSet([_charge(view, c) for c in w.charges if view.changed(c.updated_ts)]),
        "customers": ChangeSet(customers),
        "subscriptions": ChangeSet(subs),
    }


STRIPE = SystemDef("stripe", "saas", (STRIPE_CHARGES, STRIPE_CUSTOMERS, STRIPE_SUBSCRIPTIONS), project_stripe)

# --- NetSuite (US entity ERP) ----------------------------------------------------------------

NS_CUSTOMERS = StreamDef("customers", "jsonl", ("id",), "lastModifiedDate", "daily", "record/v1/customer")
NS_ORDERS = StreamDef("sales_orders", "jsonl", ("id",), "lastModifiedDate", "hourly", "record/v1/salesOrder")
NS_ITEMS = StreamDef("inventory_items", "jsonl", ("id",), "lastModifiedDate", "daily", "record/v1/inventoryItem")
_NS_BASE = "https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1"
_NS_STATUS = {
    "PENDING": ("pendingFulfillment", "Pending Fulfillment"),
    "SHIPPED": ("fullyBilled", "Billed"),
    "REFUNDED": ("fullyBilled", "Billed"),
    "PARTIAL_REFUND": ("fullyBilled", "Billed"),
    "CANCELLED": ("closed", "Closed"),
}


def _ref(ident: int | str, name: str) -> Record:
    return {"id": str(ident), "refName": name}


def _links(kind: str, ident: int) -> list[Record]:
    return [{"rel": "self", "href": f"{_NS_BASE}/{kind}/{ident}"}]


def _ns_customer(view: View, p: Person) -> Record:
    assert p.netsuite_id is not None and p.netsuite_created_ts is not None
    return {
        "links": _links("customer", p.netsuite_id),
        "id": str(p.netsuite_id),
        "entityId": f"CUST{p.netsuite_id}",
        "isPerson": True,
        "firstName": p.first,
        "lastName": p.last,
        "companyName": view.world.companies[p.company_id - 1].name if p.company_id else None,
        "email": email_variant(view.seed, "netsuite", p.netsuite_id, p.email),
        "phone": phone_variant(view.seed, "netsuite", p.netsuite_id, p.phone),
        "subsidiary": _ref(1, "Northwind Outfitters Inc."),
        "currency": _ref(1 if p.country == "US" else 3, COUNTRY_BY_CODE[p.country].currency),
        "entityStatus": _ref(13, "CUSTOMER-Closed Won"),
        "isInactive": False,
        "dateCreated": iso_z(p.netsuite_created_ts),
        "lastModifiedDate": iso_z(max(p.netsuite_created_ts, p.updated_ts)),
    }


def _ns_order(view: View, order: Order) -> Record:
    w = view.world
    p = w.persons[order.pid - 1]
    status = _NS_STATUS[order_status(order)]
    items = [
        {
            "line": i + 1,
            "item": _ref(3_000 + li.product_id, w.products[li.product_id - 1].sku),
            "quantity": float(li.quantity),
            "rate": money_float(li.unit_price),
            "amount": money_float(li.unit_price * li.quantity),
        }
        for i, li in enumerate(order.lines)
    ]
    return {
        "links": _links("salesOrder", 60_000 + order.oid),
        "id": str(60_000 + order.oid),
        "tranId": f"SO{order.number}",
        "tranDate": iso_z(order.ts)[:10],
        "entity": _ref(p.netsuite_id or 0, f"CUST{p.netsuite_id} {p.first} {p.last}"),
        "otherRefNum": f"#{order.number}",
        "currency": _ref(1 if order.currency == "USD" else 3, order.currency),
        "exchangeRate": usd(1_000_000, order.currency) / 1_000_000,
        "subtotal": money_float(order.subtotal),
        "discountTotal": money_float(-order.discount),
        "shippingCost": money_float(order.shipping),
        "total": money_float(order.total),
        "status": {"id": status[0], "refName": status[1]},
        "location": _ref(1 if order.warehouse == "WH-EAST" else 2, order.warehouse),
        "createdDate": iso_z(order.ts),
        "lastModifiedDate": iso_z(order.updated_ts),
        "item": {"items": items, "totalResults": len(items)},
    }


def _ns_item(view: View, product: Product) -> Record:
    return {
        "links": _links("inventoryItem", 3_000 + product.product_id),
        "id": str(3_000 + product.product_id),
        "itemId": product.sku,
        "displayName": product.name,
        "itemType": "InvtPart",
        "class": _ref(10 + _CATEGORY_IDS.index(product.category), product.category),
        "basePrice": money_float(product.price),
        "cost": money_float(product.cost),
        "vendorName": _VENDOR_NAMES[product.vendor_id],
        "weight": round(product.weight_grams / 1000, 3),
        "weightUnit": "kg",
        "isInactive": not product.active,
        "createdDate": iso_z(product.created_ts),
        "lastModifiedDate": iso_z(product.updated_ts),
    }


def project_netsuite(view: View) -> dict[str, ChangeSet]:
    w = view.world
    customers = [
        _ns_customer(view, p)
        for p in w.persons
        if p.netsuite_id
        and p.netsuite_created_ts is not None
        and view.changed(max(p.netsuite_created_ts, p.updated_ts))
    ]
    orders = [_ns_order(view, o) for o in w.orders if o.entity == "US" and view.changed(o.updated_ts)]
    return {
        "customers": ChangeSet(customers),
        "sales_orders": ChangeSet(orders),
        "inventory_items": ChangeSet([_ns_item(view, p) for p in w.products if view.changed(p.updated_ts)]),
    }


NETSUITE = SystemDef("netsuite", "saas", (NS_CUSTOMERS, NS_ORDERS, NS_ITEMS), project_netsuite)
