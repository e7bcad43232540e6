"""Time arithmetic and the native timestamp spellings of each system.

The model keeps every instant as integer Unix seconds (UTC); only projections turn them into a
system's own spelling, so one instant reads the same everywhere it appears.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86_400
HOUR = 3_600
_EPOCH = date(1970, 1, 1)
_SHOP_TZ = ZoneInfo("America/New_York")


def epoch_day(d: date) -> int:
    return (d - _EPOCH).days


def day_start(start: date, day: int) -> int:
    """Unix seconds at 00:00 UTC of simulation day `day` (day 0 is `start`)."""
    return (epoch_day(start) + day) * DAY


def day_of(start: date, ts: int) -> int:
    return ts // DAY - epoch_day(start)


def to_date(ts: int) -> date:
    return _EPOCH + timedelta(days=ts // DAY)


def sim_date(start: date, day: int) -> date:
    return start + timedelta(days=day)


def batch_name(start: date, day: int) -> str:
    return f"day={sim_date(start, day).isoformat()}"


def history_batch_name(start: date, days: int) -> str:
    """The history's batch, named after its last day so file names sort in load order
    (`day=2026-01-30-history` < `day=2026-01-31`): file loaders resume by name."""
    return f"{batch_name(start, days - 1)}-history"


@lru_cache(maxsize=4096)
def _day_text(epoch_days: int) -> str:
    return (_EPOCH + timedelta(days=epoch_days)).isoformat()


def _split(ts: int) -> tuple[str, str]:
    """('YYYY-MM-DD', 'HH:MM:SS') in UTC; string arithmetic is far cheaper than strftime per value."""
    days, secs = divmod(ts, DAY)
    hours, rest = divmod(secs, HOUR)
    return _day_text(days), f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def iso_z(ts: int) -> str:
    d, t = _split(ts)
    return f"{d}T{t}Z"


def iso_ms_z(ts: int, ms: int = 0) -> str:
    d, t = _split(ts)
    return f"{d}T{t}.{ms:03d}Z"


def salesforce(ts: int) -> str:
    d, t = _split(ts)
    return f"{d}T{t}.000+0000"


def facebook(ts: int) -> str:
    d, t = _split(ts)
    return f"{d}T{t}+0000"


def shop_local(ts: int) -> str:
    """Shopify renders times in the shop's time zone with an offset."""
    return datetime.fromtimestamp(ts, _SHOP_TZ).isoformat()


def odata(ts: int) -> str:
    """SAP Gateway OData v2 date literal."""
    return f"/Date({ts * 1000})/"


def odata_date(d: date) -> str:
    return f"/Date({epoch_day(d) * DAY * 1000})/"


def space_sep(ts: int, micros: int = 0) -> str:
    """Amplitude export style: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    d, t = _split(ts)
    return f"{d} {t}.{micros:06d}"


def micros(ts: int) -> int:
    return ts * 1_000_000


def ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def month_key(d: date) -> str:
    return d.strftime("%Y-%m")
