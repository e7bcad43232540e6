"""Event streams: Kafka topics (consumer-record envelopes), the Kinesis data stream (GetRecords
shape, base64 payloads) and AWS IoT Core MQTT messages."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from company.clock import DAY, HOUR, day_start, iso_ms_z
from company.model import Order
from company.projections.common import money_str
from company.projections.timeline import hits
from company.rand import HEX, token, unit
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

PARTITIONS = {"user_events": 12, "order_events": 8, "inventory_updates": 6}
KINESIS_SHARDS = 4


def _kafka_spec(topic: str) -> StreamDef:
    return StreamDef(topic, "jsonl", ("partition", "offset"), "timestamp", "real-time", topic)


def murmur2(data: bytes) -> int:
    """Kafka's default partitioner hash (the Java client's murmur2), so keys land where Kafka puts them."""
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h = ((h ^ tail[0]) * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


@dataclass(slots=True)
class Message:
    produced_ms: int
    ident: str  # stable across runs of any length: it names the business event, not its position
    key: str
    value: Callable[[], Record]  # built only for messages inside the window
    event_type: str


def _produced_ms(view: View, topic: str, ident: str, ts: int) -> int:
    """When the producer delivered: most at once, 2% buffered and sent after midnight (late arrivals)."""
    if unit(view.seed, "kafka-late", topic, ident) < 0.02:
        ts = (ts // DAY + 1) * DAY + int(unit(view.seed, "kafka-lag", topic, ident) * 2 * HOUR)
    return ts * 1000 + int(unit(view.seed, "kafka-ms", topic, ident) * 1000)


def _envelopes(view: View, topic: str, messages: list[Message]) -> list[Record]:
    """Assign partitions and per-partition offsets over the whole topic, then keep the window's."""
    parts = PARTITIONS[topic]
    messages.sort(key=lambda msg: (msg.produced_ms, msg.ident))
    next_offset = [0] * parts
    rows = []
    for msg in messages:
        partition = (murmur2(msg.key.encode()) & 0x7FFFFFFF) % parts
        offset = next_offset[partition]
        next_offset[partition] += 1
        if not view.arrived(view.day(msg.produced_ms // 1000)):
            continue
        rows.append(
            {
                "topic": topic,
                "partition": partition,
                "offset": offset,
                "timestamp": msg.produced_ms,
                "timestamp_type": "CreateTime",
                "key": msg.key,
                "headers": {"event_type": msg.event_type, "content-type": "application/json"},
                "value": msg.value(),
            }
        )
    return rows


def _event_value(view: View, topic: str, ident: str, kind: str, ts: int, data: Callable[[], Record]) -> Record:
    return {
        "event_id": token(view.seed, "kafka", topic, ident, length=32, alphabet=HEX),
        "event_type": kind,
        "event_version": 1,
        "occurred_at": iso_ms_z(ts),
        **data(),
    }


def _message(view: View, topic: str, ident: str, key: str, kind: str, ts: int, data: Callable[[], Record]) -> Message:
    value = partial(_event_value, view, topic, ident, kind, ts, data)
    return Message(_produced_ms(view, topic, ident, ts), ident, key, value, kind)


def _user_messages(view: View) -> list[Message]:
    out = []
    for n, ev in enumerate(view.world.user_events):
        p = view.world.persons[ev.pid - 1]
        data: Record = {"user_id": p.app_user_id, "session_id": f"s_{ev.session_id}" if ev.session_id else None}
        if ev.kind == "signed_up":
            data["data"] = {k: ev.data[k] for k in ("email", "country", "marketing_opt_in")}
        elif ev.kind == "profile_updated":
            data["data"] = dict(ev.data)
        kind = f"user.{ev.kind}"
        # User events are appended in time order, so their position is stable from run to run.
        out.append(_message(view, "user_events", f"{n:09d}", f"user-{p.app_user_id}", kind, ev.ts, partial(dict, data)))
    return out


def _order_steps(view: View) -> Iterator[tuple[int, Order, str, str, Callable[[], Record]]]:
    """The order service's lifecycle events: created (once paid), fulfilled, cancelled, refunded."""
    for order in view.world.orders:
        base = {"order_number": order.number, "currency": order.currency}
        yield order.ts, order, "order.created", "created", partial(_created, view, order, base)
        if order.fulfilled_ts:
            shipped = {"warehouse": order.warehouse, "carrier": order.carrier, "tracking_number": order.tracking}
            yield order.fulfilled_ts, order, "order.fulfilled", "fulfilled", partial(dict, base, **shipped)
        if order.cancelled_ts:
            yield order.cancelled_ts, order, "order.cancelled", "cancelled", partial(dict, base)
        for r in order.refunds:
            if r.ts != order.cancelled_ts:
                refund = {"amount": money_str(r.amount), "reason": r.reason}
                yield r.ts, order, "order.refunded", f"refund-{r.refund_id}", partial(dict, base, **refund)


def _created(view: View, order: Order, base: Record) -> Record:
    w = view.world
    paid = next(w.charges[c - 1] for c in reversed(order.charge_ids) if w.charges[c - 1].succeeded)
    items = [
        {"sku": w.products[li.product_id - 1].sku, "quantity": li.quantity, "unit_price": money_str(li.unit_price)}
        for li in order.lines
    ]
    return {
        **base,
        "user_id": w.persons[order.pid - 1].app_user_id,
        "channel": order.channel,
        "total": money_str(order.total),
        "payment": {"provider": "stripe", "charge_id": paid.stripe_id, "status": "captured"},
        "items": items,
    }


def _order_messages(view: View) -> list[Message]:
    return [
        _message(view, "order_events", f"{order.number}:{step}", f"order-{order.number}", kind, ts, data)
        for ts, order, kind, step, data in _order_steps(view)
    ]


def _inventory_messages(view: View) -> list[Message]:
    skus = [p.sku for p in view.world.products]
    out = []
    for m in view.world.movements:
        sku = skus[m.product_id - 1]
        data = {
            "sku": sku,
            "warehouse": m.warehouse,
            "movement_type": m.kind,
            "delta": m.quantity,
            "on_hand": m.on_hand_after,
            "reference": m.reference,
        }
        key = f"{sku}:{m.warehouse}"
        out.append(_message(view, "inventory_updates", str(m.mid), key, "inventory.changed", m.ts, partial(dict, data)))
    return out


def project_kafka(view: View) -> dict[str, ChangeSet]:
    return {
        "user_events": ChangeSet(_envelopes(view, "user_events", _user_messages(view))),
        "order_events": ChangeSet(_envelopes(view, "order_events", _order_messages(view))),
        "inventory_updates": ChangeSet(_envelopes(view, "inventory_updates", _inventory_messages(view))),
    }


KAFKA = SystemDef("kafka", "stream", tuple(_kafka_spec(t) for t in PARTITIONS), project_kafka)

# --- Kinesis ---------------------------------------------------------------------------------

KINESIS_STREAM = StreamDef(
    "real_time_data_stream",
    "jsonl",
    ("SequenceNumber",),
    "ApproximateArrivalTimestamp",
    "real-time",
    "company-real-time-data-stream",
)


def _shard(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big") * KINESIS_SHARDS >> 128


def project_kinesis(view: View) -> dict[str, ChangeSet]:
    """Web clickstream (page views and cart adds); sequence numbers grow per shard over all time."""
    w = view.world
    records = []
    counters = [0] * KINESIS_SHARDS
    for s in w.sessions:
        if s.platform != "web":
            continue
        for h in hits(s, w):
            if h.kind not in ("page_view", "add_to_cart"):
                continue
            shard = _shard(s.device_id)
            counters[shard] += 1
            if not view.shows(h.ts):
                continue
            payload = {
                "event_type": h.kind,
                "session_id": f"s_{s.sess_id}",
                "anonymous_id": s.device_id,
                "user_id": w.persons[s.pid - 1].app_user_id if s.pid else None,
                "sku": w.products[h.product_id - 1].sku if h.product_id else None,
                "occurred_at": iso_ms_z(h.ts, h.ms),
            }
            data = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
            records.append(
                {
                    "SequenceNumber": f"4959{shard:02d}{h.ts:012d}{counters[shard]:038d}",
                    "ApproximateArrivalTimestamp": round(h.ts + (h.ms + 180) / 1000, 3),
                    "Data": data,
                    "PartitionKey": s.device_id,
                    "ShardId": f"shardId-{shard:012d}",
                    "EncryptionType": "NONE",
                }
            )
    return {"real_time_data_stream": ChangeSet(records)}


KINESIS = SystemDef("kinesis", "stream", (KINESIS_STREAM,), project_kinesis)

# --- AWS IoT Core ----------------------------------------------------------------------------

IOT_SENSORS = StreamDef("sensor_data", "jsonl", (), "timestamp", "real-time", "dt/northwind/+/+/telemetry")
IOT_STATUS = StreamDef("device_status", "jsonl", (), "timestamp", "real-time", "$aws/things/+/shadow/update/accepted")


def _received(view: View, ts: int, arrival_day: int, n: int) -> int:
    """Milliseconds the broker stamped; a buffered reading is stamped when the device reconnects."""
    if view.day(ts) == arrival_day:
        return ts * 1000 + 350
    return (day_start(view.world.start, arrival_day) + HOUR + n % 600) * 1000


def project_iot(view: View) -> dict[str, ChangeSet]:
    w = view.world
    warehouses = {d.device_id: d.warehouse for d in w.devices}
    sensors = [
        {
            "topic": f"dt/northwind/{warehouses[r.device_id].lower()}/{r.device_id}/telemetry",
            "qos": 1,
            "timestamp": _received(view, r.ts, r.arrival_day, n),
            "clientId": r.device_id,
            "payload": {
                "device_id": r.device_id,
                "ts": r.ts * 1000,
                "temperature_c": r.temperature_c,
                "humidity_pct": r.humidity_pct,
                "battery_pct": r.battery_pct,
            },
        }
        for n, r in enumerate(w.readings)
        if view.arrived(r.arrival_day)
    ]
    statuses = [
        {
            "topic": f"$aws/things/{st.device_id}/shadow/update/accepted",
            "qos": 1,
            "timestamp": st.ts * 1000 + 120,
            "clientId": st.device_id,
            "payload": {
                "state": {"reported": {"status": st.status, "rssi": st.rssi, "firmware": st.firmware}},
                "metadata": {"reported": {"status": {"timestamp": st.ts}}},
                "version": n + 1,
                "timestamp": st.ts,
            },
        }
        for n, st in enumerate(w.statuses)
        if view.arrived(st.arrival_day)
    ]
    return {"sensor_data": ChangeSet(sensors), "device_status": ChangeSet(statuses)}


IOT_CORE = SystemDef("iot_core", "iot", (IOT_SENSORS, IOT_STATUS), project_iot)
