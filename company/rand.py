"""Seeded, order-independent randomness.

Every random choice is drawn from a stream named by its purpose (domain, day, entity), never from a
shared global stream: adding a system, a stream or a day then never shifts the draws of the others,
and a history generated through day N is a prefix of one generated through day N+1.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def _digest(seed: int, parts: tuple[object, ...]) -> bytes:
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def stream(seed: int, *parts: object) -> random.Random:
    """A private random stream for one purpose."""
    return random.Random(int.from_bytes(_digest(seed, parts), "big"))


def unit(seed: int, *parts: object) -> float:
    """A uniform draw in [0, 1) that depends only on its name, for per-entity decisions."""
    return int.from_bytes(_digest(seed, parts)[:8], "big") / 2**64


def token(seed: int, *parts: object, length: int, alphabet: str = BASE62) -> str:
    """A fixed-length identifier (at most 32 characters) derived from its name.

    One character per digest byte: the slight bias of `byte % len(alphabet)` does not matter for ids,
    and it is several times cheaper than a big-integer base conversion.
    """
    digest = _digest(seed, parts)
    if alphabet == HEX:
        return digest.hex()[:length]
    size = len(alphabet)
    return "".join([alphabet[b % size] for b in digest[:length]])


def weighted(rng: random.Random, options: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(options, weights=weights, k=1)[0]


def count(rng: random.Random, mean: float) -> int:
    """A non-negative integer with the given mean; cheap stand-in for a Poisson draw."""
    if mean <= 0:
        return 0
    spread = max(1.0, mean**0.5)
    return max(0, round(rng.gauss(mean, spread)))
