"""Product analytics: Mixpanel export API, Amplitude export API, Segment tracking API messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from company.catalog import COUNTRY_BY_CODE
from company.clock import HOUR, day_start, iso_ms_z, sim_date, space_sep
from company.model import Session
from company.noise import email_variant
from company.projections.common import usd
from company.projections.timeline import Hit, hits
from company.rand import HEX, token
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

# --- Mixpanel --------------------------------------------------------------------------------

MP_EVENTS = StreamDef("events", "jsonl", ("properties.$insert_id",), "properties.time", "daily", "api/2.0/export")
MP_FUNNELS = StreamDef("funnels", "jsonl", ("funnel_id", "date"), "date", "daily", "api/2.0/funnels")
_MP_NAMES = {"add_to_cart": "Added to Cart", "sign_up": "Signed Up", "purchase": "Order Completed"}
_FUNNELS = (
    (7011, "Browse to Purchase", ("Product Viewed", "Added to Cart", "Order Completed")),
    (7012, "Visitor Sign Up", ("Product Viewed", "Signed Up")),
)


def _mp_hits(view: View, s: Session) -> Iterator[tuple[str, Hit]]:
    for h in hits(s, view.world):
        if h.kind == "page_view" and h.seq == 1:
            yield "Product Viewed", h
        elif h.kind in _MP_NAMES:
            yield _MP_NAMES[h.kind], h


def _mp_event(view: View, s: Session, name: str, h: Hit) -> Record:
    w = view.world
    person = w.persons[s.pid - 1] if s.pid else None
    props: Record = {
        "time": h.ts,
        "distinct_id": str(person.app_user_id) if person else f"$device:{s.device_id}",
        "$device_id": s.device_id,
        "$insert_id": token(view.seed, "mixpanel", s.sess_id, h.seq, length=20, alphabet=HEX),
        "$browser": ("Chrome", "Safari", "Firefox", "Edge")[s.sess_id % 4],
        "$os": ("Windows", "Mac OS X", "iOS")[s.sess_id % 3],
        "$city": s.city,
        "mp_country_code": s.country,
        "mp_lib": "web",
        "utm_source": s.source,
        "utm_medium": s.medium,
    }
    if person:
        props["$user_id"] = str(person.app_user_id)
    if h.product_id:
        product = w.products[h.product_id - 1]
        props.update({"sku": product.sku, "category": product.category, "price": product.price_at(h.ts) / 100})
    if name == "Order Completed" and s.order_id:
        order = w.orders[s.order_id - 1]
        props.update({"order_number": order.number, "revenue": usd(order.total, order.currency) / 100})
    return {"event": name, "properties": props}


def _web_sessions(view: View) -> list[Session]:
    return [s for s in view.world.sessions if s.platform == "web" and view.arrived(s.arrival_day)]


def _funnels(view: View, sessions: list[Session]) -> list[Record]:
    reached: dict[tuple[int, str], int] = defaultdict(int)
    days: list[int] = []
    for s in sessions:
        day = view.day(s.start_ts)
        if day not in days:
            days.append(day)
        names = {name for name, _ in _mp_hits(view, s)}
        for name in sorted(names):
            reached[(day, name)] += 1
    return [_funnel_row(view, day, f, reached) for day in sorted(days) for f in _FUNNELS]


def _funnel_row(
    view: View, day: int, funnel: tuple[int, str, tuple[str, ...]], reached: dict[tuple[int, str], int]
) -> Record:
    funnel_id, name, steps = funnel
    counts = [reached.get((day, step), 0) for step in steps]
    first = counts[0] or 1
    rows = [
        {
            "count": c,
            "event": step,
            "step_label": step,
            "goal": step,
            "overall_conv_ratio": round(c / first, 6),
            "step_conv_ratio": round(c / (counts[i - 1] or 1), 6) if i else 1.0,
            "avg_time": None if i == 0 else 45 * i + 30,
        }
        for i, (step, c) in enumerate(zip(steps, counts, strict=True))
    ]
    return {
        "funnel_id": funnel_id,
        "name": name,
        "date": sim_date(view.world.start, day).isoformat(),
        "steps": rows,
        "analysis": {"completion": counts[-1], "starting_amount": counts[0], "steps": len(steps), "worst": 1},
    }


def project_mixpanel(view: View) -> dict[str, ChangeSet]:
    sessions = _web_sessions(view)
    events = [_mp_event(view, s, name, h) for s in sessions for name, h in _mp_hits(view, s)]
    return {"events": ChangeSet(events), "funnels": ChangeSet(_funnels(view, sessions))}


MIXPANEL = SystemDef("mixpanel", "saas", (MP_EVENTS, MP_FUNNELS), project_mixpanel)

# --- Amplitude -------------------------------------------------------------------------------

AMP_EVENTS = StreamDef("events", "jsonl", ("uuid",), "server_upload_time", "daily", "api/2/export")
AMP_USERS = StreamDef(
    "user_properties", "jsonl", ("user_id",), "last_event_time", "daily", "api/2/usersearch + useractivity"
)
_AMP_NAMES = {"page_view": "view_item"}


def _uuid(view: View, *parts: object) -> str:
    raw = token(view.seed, "amplitude", *parts, length=32, alphabet=HEX)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"


def _uploaded(view: View, s: Session, h: Hit) -> int:
    """Seconds the server received the event; a phone that was offline uploads the next morning."""
    if s.arrival_day == view.day(s.start_ts):
        return h.ts + 2
    return day_start(view.world.start, s.arrival_day) + 7 * HOUR + s.sess_id % 3_600


def _amp_event(view: View, s: Session, h: Hit) -> Record:
    w = view.world
    person = w.persons[s.pid - 1] if s.pid else None
    ios = s.platform == "ios"
    props: Record = {}
    if h.product_id:
        product = w.products[h.product_id - 1]
        props = {"sku": product.sku, "category": product.category}
    if h.kind == "purchase" and s.order_id:
        order = w.orders[s.order_id - 1]
        props.update({"order_number": order.number, "revenue": usd(order.total, order.currency) / 100})
    upload = _uploaded(view, s, h)
    return {
        "uuid": _uuid(view, s.sess_id, h.seq),
        "$insert_id": f"{s.sess_id}-{h.seq}",
        "event_id": h.seq + 1,
        "event_type": _AMP_NAMES.get(h.kind, h.kind),
        "event_time": space_sep(h.ts, h.ms * 1000),
        "client_event_time": space_sep(h.ts, h.ms * 1000),
        "server_received_time": space_sep(upload),
        "server_upload_time": space_sep(upload),
        "session_id": s.start_ts * 1000,
        "user_id": str(person.app_user_id) if person else None,
        "device_id": s.device_id.upper(),
        "amplitude_id": int(s.device_id[:12], 16),
        "app": 412345,
        "platform": "iOS" if ios else "Android",
        "os_name": "ios" if ios else "android",
        "device_family": "Apple iPhone" if ios else "Samsung Galaxy",
        "version_name": "4.12.0",
        "country": COUNTRY_BY_CODE[s.country].name,
        "city": s.city,
        "event_properties": props,
        "user_properties": {"marketing_opt_in": person.opt_in} if person else {},
    }


def _mobile_sessions(view: View) -> list[Session]:
    return [s for s in view.world.sessions if s.platform != "web" and view.arrived(s.arrival_day)]


def _amp_users(view: View, sessions: list[Session]) -> list[Record]:
    w = view.world
    seen: dict[int, list[Session]] = defaultdict(list)
    for s in w.sessions:
        if s.pid is not None and s.platform != "web" and s.arrival_day <= view.last:
            seen[s.pid].append(s)
    active = sorted({s.pid for s in sessions if s.pid is not None})
    rows = []
    for pid in active:
        person, mine = w.persons[pid - 1], seen[pid]
        latest = max(mine, key=lambda s: s.end_ts)
        rows.append(
            {
                "user_id": str(person.app_user_id),
                "amplitude_id": int(person.device_id[:12], 16),
                "device_id": person.device_id.upper(),
                "platform": "iOS" if latest.platform == "ios" else "Android",
                "country": COUNTRY_BY_CODE[latest.country].name,
                "city": latest.city,
                "first_used": sim_date(w.start, min(view.day(s.start_ts) for s in mine)).isoformat(),
                "last_used": sim_date(w.start, view.day(latest.start_ts)).isoformat(),
                "last_event_time": space_sep(max(_uploaded(view, s, hits(s, w)[-1]) for s in mine)),
                "properties": {"marketing_opt_in": person.opt_in, "app_version": "4.12.0", "sessions": len(mine)},
            }
        )
    return rows


def project_amplitude(view: View) -> dict[str, ChangeSet]:
    sessions = _mobile_sessions(view)
    # Amplitude's SDK here is configured without automatic session events.
    events = [_amp_event(view, s, h) for s in sessions for h in hits(s, view.world) if h.kind != "session_start"]
    return {"events": ChangeSet(events), "user_properties": ChangeSet(_amp_users(view, sessions))}


AMPLITUDE = SystemDef("amplitude", "saas", (AMP_EVENTS, AMP_USERS), project_amplitude)

# --- Segment ---------------------------------------------------------------------------------

SEG_TRACK = StreamDef("events", "jsonl", ("messageId",), "receivedAt", "real-time", "v1/track")
SEG_IDENTIFY = StreamDef("identify", "jsonl", ("messageId",), "receivedAt", "real-time", "v1/identify")
_LIBRARY = {
    "web": ("analytics.js", "next-1.70.0"),
    "ios": ("analytics-ios", "4.1.8"),
    "android": ("analytics-android", "4.11.3"),
}


def _seg_message(view: View, kind: str, n: object, ts: int, received: int, platform: str) -> Record:
    name, version = _LIBRARY.get(platform, ("analytics-node", "2.1.0"))
    return {
        "type": kind,
        "messageId": f"ajs-next-{token(view.seed, 'segment', kind, n, length=32, alphabet=HEX)}",
        "timestamp": iso_ms_z(ts),
        "originalTimestamp": iso_ms_z(ts),
        "sentAt": iso_ms_z(received - 1),
        "receivedAt": iso_ms_z(received),
        "context": {"library": {"name": name, "version": version}},
        "integrations": {},
        "version": 2,
    }


def _track(view: View, s: Session, h: Hit) -> Record:
    w = view.world
    received = _uploaded(view, s, h)
    msg = _seg_message(view, "track", (s.sess_id, h.seq), h.ts, received, s.platform)
    person = w.persons[s.pid - 1] if s.pid else None
    props: Record = {}
    if h.kind == "purchase" and s.order_id:
        order = w.orders[s.order_id - 1]
        props = {"order_id": f"#{order.number}", "total": order.total / 100, "currency": order.currency}
    msg.update(
        {
            "event": {"purchase": "Order Completed", "sign_up": "Signed Up"}[h.kind],
            "userId": str(person.app_user_id) if person else None,
            "anonymousId": s.device_id,
            "properties": props,
        }
    )
    return msg


def _identifies(view: View) -> list[Record]:
    rows = []
    w = view.world
    for n, ev in enumerate(w.user_events):
        if ev.kind not in ("signed_up", "profile_updated") or not view.shows(ev.ts + 1):
            continue
        p = w.persons[ev.pid - 1]
        msg = _seg_message(view, "identify", n, ev.ts, ev.ts + 1, "server")
        traits = {
            "email": email_variant(view.seed, "segment", p.pid, p.email),
            "firstName": p.first,
            "lastName": p.last,
            "phone": ev.data.get("phone"),
            "createdAt": iso_ms_z(p.created_ts),
            "address": {"city": ev.data.get("city"), "country": p.country},
        }
        msg.update({"userId": str(p.app_user_id), "anonymousId": p.device_id, "traits": traits})
        rows.append(msg)
    return rows


def project_segment(view: View) -> dict[str, ChangeSet]:
    w = view.world
    tracks = [
        _track(view, s, h)
        for s in w.sessions
        if view.arrived(s.arrival_day)
        for h in hits(s, w)
        if h.kind in ("purchase", "sign_up")
    ]
    return {"events": ChangeSet(tracks), "identify": ChangeSet(_identifies(view))}


SEGMENT = SystemDef("segment", "saas", (SEG_TRACK, SEG_IDENTIFY), project_segment)
