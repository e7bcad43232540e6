"""Identity noise: how the same person's details drift between systems.

Each choice depends only on (seed, system, record), so a record reads the same in the history and in
every later increment, and the drift in one system never changes another's.
"""

from __future__ import annotations

from company.rand import unit


def email_variant(seed: int, system: str, key: object, email: str, messiness: float = 1.0) -> str:
    """The address as the system stored it: mixed case and stray whitespace, as people type it."""
    u = unit(seed, "email", system, key)
    if u < 1.0 - 0.3 * messiness:
        return email
    local, _, domain = email.partition("@")
    styled = f"{local.title()}@{domain.title()}"
    if u < 1.0 - 0.18 * messiness:
        return styled
    if u < 1.0 - 0.08 * messiness:
        return f" {email} " if u < 1.0 - 0.13 * messiness else f"{email} "
    return f"{email.upper()} "


def normalise_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def phone_variant(seed: int, system: str, key: object, phone: str | None) -> str | None:
    """E.164 in the app; legacy systems and people reformat it, and some leave it out."""
    if phone is None or unit(seed, "phone-missing", system, key) < 0.08:
        return None
    if not phone.startswith("+1") or unit(seed, "phone", system, key) < 0.5:
        return phone
    digits = phone[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def present(seed: int, system: str, key: object, field: str, share_missing: float) -> bool:
    return unit(seed, "missing", system, key, field) >= share_missing
