"""The hits of one session in time order, shared by every analytics tool that saw it."""

from __future__ import annotations

from dataclasses import dataclass

from company.model import Session, World


@dataclass(frozen=True, slots=True)
class Hit:
    ts: int
    ms: int
    kind: str  # session_start | page_view | add_to_cart | sign_up | purchase
    seq: int
    product_id: int | None = None

    @property
    def micros(self) -> int:
        return self.ts * 1_000_000 + self.ms * 1_000


def hits(session: Session, world: World) -> list[Hit]:
    start = session.start_ts
    out = [Hit(start, _ms(session, 0), "session_start", 0)]
    for i, product_id in enumerate(session.pages):
        out.append(Hit(start + 20 + 45 * i, _ms(session, i + 1), "page_view", i + 1, product_id))
    n = len(out)
    if session.signed_up and session.pid is not None:
        signed = world.persons[session.pid - 1].created_ts
        out.append(Hit(signed, _ms(session, n), "sign_up", n))
        n += 1
    if session.added_to_cart:
        last = session.pages[-1]
        out.append(Hit(start + 10 + 45 * len(session.pages), _ms(session, n), "add_to_cart", n, last))
        n += 1
    if session.order_id is not None:
        order = world.orders[session.order_id - 1]
        out.append(Hit(order.ts, _ms(session, n), "purchase", n, order.lines[0].product_id))
    out.sort(key=lambda h: (h.ts, h.seq))
    return out


def _ms(session: Session, seq: int) -> int:
    return (session.sess_id * 37 + seq * 211) % 1000
