"""Document and key-value stores: MongoDB (mongoexport relaxed Extended JSON) and DynamoDB (export JSON)."""

from __future__ import annotations

from company import ids
from company.clock import DAY, iso_ms_z
from company.model import Preference, Review, Session
from company.projections.timeline import hits
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

MONGO_SESSIONS = StreamDef(
    "user_sessions", "jsonl", ("_id",), "ended_at", "real-time", "company_analytics.user_sessions"
)
MONGO_REVIEWS = StreamDef(
    "product_reviews", "jsonl", ("_id",), "updated_at", "daily", "company_analytics.product_reviews"
)
DDB_PREFS = StreamDef("user_preferences", "jsonl", ("user_id",), "updated_at", "real-time", "user_preferences")
DDB_SESSIONS = StreamDef("session_data", "jsonl", ("session_id",), "created_at", "real-time", "session_data")
SESSION_TTL_DAYS = 7


def _date(ts: int, ms: int = 0) -> Record:
    return {"$date": iso_ms_z(ts, ms)}


def _oid(view: View, ts: int, kind: str, n: int) -> Record:
    return {"$oid": ids.object_id(view.seed, ts, kind, n)}


def _mongo_session(view: View, s: Session) -> Record:
    w = view.world
    person = w.persons[s.pid - 1] if s.pid else None
    campaign = w.campaigns[s.campaign_id - 1].name if s.campaign_id else None
    pages = [
        {"path": f"/products/{w.products[h.product_id - 1].sku.lower()}", "viewed_at": _date(h.ts, h.ms)}
        for h in hits(s, w)
        if h.kind == "page_view" and h.product_id
    ]
    return {
        "_id": _oid(view, s.start_ts, "session", s.sess_id),
        "session_id": f"s_{s.sess_id}",
        "user_id": person.app_user_id if person else None,
        "device": {"id": s.device_id, "platform": s.platform},
        "started_at": _date(s.start_ts),
        "ended_at": _date(s.end_ts),
        "duration_sec": s.end_ts - s.start_ts,
        "pages": pages,
        "cart_added": s.added_to_cart,
        "order_number": w.orders[s.order_id - 1].number if s.order_id else None,
        "utm": {"source": s.source, "medium": s.medium, "campaign": campaign},
        "geo": {"country": s.country, "city": s.city},
    }


def _mongo_review(view: View, r: Review) -> Record:
    w = view.world
    return {
        "_id": _oid(view, r.ts, "review", r.rid),
        "product_sku": w.products[r.product_id - 1].sku,
        "user_id": w.persons[r.pid - 1].app_user_id,
        "order_number": w.orders[r.order_id - 1].number,
        "rating": r.rating,
        "title": r.title,
        "body": r.body,
        "verified_purchase": True,
        "helpful_votes": r.helpful_votes,
        "status": "published",
        "created_at": _date(r.ts),
        "updated_at": _date(r.updated_ts),
    }


def _reviews(view: View) -> ChangeSet:
    batch = ChangeSet()
    for r in view.world.reviews:
        if r.deleted_ts is not None:
            if view.shows(r.deleted_ts) and not view.initial:
                batch.deletes.append({"_id": _oid(view, r.ts, "review", r.rid), "_deleted_at": r.deleted_ts})
            continue
        if view.changed(r.updated_ts):
            batch.rows.append(_mongo_review(view, r))
    return batch


def project_mongodb(view: View) -> dict[str, ChangeSet]:
    sessions = [
        _mongo_session(view, s) for s in view.world.sessions if s.pid is not None and view.arrived(s.arrival_day)
    ]
    return {"user_sessions": ChangeSet(sessions), "product_reviews": _reviews(view)}


MONGODB = SystemDef("mongodb", "nosql", (MONGO_SESSIONS, MONGO_REVIEWS), project_mongodb)


def _s(value: str) -> Record:
    return {"S": value}


def _n(value: int | float) -> Record:
    return {"N": str(value)}


def _pref_item(view: View, pref: Preference) -> Record:
    person = view.world.persons[pref.pid - 1]
    return {
        "Item": {
            "user_id": _s(str(person.app_user_id)),
            "theme": _s(pref.theme),
            "language": _s(pref.language),
            "email_opt_in": {"BOOL": pref.email_opt_in},
            "favorite_categories": {"SS": list(pref.categories)},
            "currency": _s(pref.currency),
            "updated_at": _n(pref.updated_ts),
            "version": _n(pref.version),
        }
    }


def _session_item(view: View, s: Session) -> Record:
    w = view.world
    person = w.persons[s.pid - 1] if s.pid else None
    cart = [
        {"M": {"sku": _s(product.sku), "qty": _n(1), "price": _n(product.price_at(s.start_ts) / 100)}}
        for product in (w.products[pid - 1] for pid in s.pages[-1:])
    ]
    return {
        "Item": {
            "session_id": _s(f"s_{s.sess_id}"),
            "user_id": _s(str(person.app_user_id)) if person and person.app_user_id else {"NULL": True},
            "device_id": _s(s.device_id),
            "platform": _s(s.platform),
            "created_at": _n(s.start_ts),
            "expires_at": _n(s.start_ts + SESSION_TTL_DAYS * DAY),
            "cart": {"L": cart},
        }
    }


def _ddb_sessions(view: View) -> ChangeSet:
    """Cart sessions; DynamoDB's TTL deletes each one a week after it started."""
    batch = ChangeSet()
    for s in view.world.sessions:
        if not s.added_to_cart:
            continue
        expires = s.start_ts + SESSION_TTL_DAYS * DAY
        if view.day(expires) <= view.last:
            if not view.initial and view.shows(expires):
                batch.deletes.append({"session_id": {"S": f"s_{s.sess_id}"}, "_deleted_at": expires})
            continue
        if view.shows(s.start_ts):
            batch.rows.append(_session_item(view, s))
    return batch


def project_dynamodb(view: View) -> dict[str, ChangeSet]:
    prefs = [
        _pref_item(view, pref)
        for pref in view.world.preferences.values()
        if view.changed(pref.updated_ts) and view.world.persons[pref.pid - 1].app_user_id is not None
    ]
    return {"user_preferences": ChangeSet(prefs), "session_data": _ddb_sessions(view)}


DYNAMODB = SystemDef("dynamodb", "nosql", (DDB_PREFS, DDB_SESSIONS), project_dynamodb)
