"""Identifiers spelled the way each source system spells them."""

from __future__ import annotations

from company.rand import BASE62, HEX, token

_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, rem = divmod(n, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def salesforce(prefix: str, n: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, sequence, and the case-safe checksum."""
    short = f"{prefix}Dn0{_base62(n * 7919 + 104729, 9)}"
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(short[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SF_SUFFIX[bits]
    return short + suffix


def stripe(seed: int, prefix: str, n: int) -> str:
    return f"{prefix}_{token(seed, 'stripe', prefix, n, length=24 if prefix in ('ch', 'pi', 're', 'txn') else 14)}"


def shopify(kind_offset: int, n: int) -> int:
    """Shopify's 13-digit numeric ids grow with gaps; each resource has its own range."""
    return 5_000_000_000_000 + kind_offset * 100_000_000_000 + n * 137


def shopify_gid(resource: str, ident: int) -> str:
    return f"gid://shopify/{resource}/{ident}"


def workday(seed: int, kind: str, n: int) -> str:
    return token(seed, "workday", kind, n, length=32, alphabet=HEX)


def object_id(seed: int, ts: int, kind: str, n: int) -> str:
    """A MongoDB ObjectId: 4-byte creation time, 5 random bytes, 3-byte counter."""
    return f"{ts:08x}{token(seed, 'oid', kind, n, length=10, alphabet=HEX)}{n % 0xFFFFFF:06x}"


def sap_number(base: int, n: int) -> str:
    return f"{base + n:010d}"
