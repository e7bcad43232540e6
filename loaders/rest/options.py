"""The REST family's keys, validated once: the source's `options:` and each stream's own keys.

Everything an API needs is declared here, so a new API is a YAML file, not code:

    options:
      base_url: https://api.hubapi.com          # always configurable: proxies, sandboxes, regional hosts
      auth: {kind: oauth2_refresh_token, token_url: /oauth/v1/token, client_id: ..., ...}
      headers: {Accept: application/json}
      vars: {account_id: ${FB_ACCOUNT}}         # `{vars.account_id}` in paths, params and bodies
      page_size: 100
      quota: {statuses: [429], header: X-HubSpot-RateLimit-Daily-Remaining, value: "0", body_contains: DAILY}
    streams:
      - name: contacts
        path: /crm/v3/objects/contacts/search
        method: POST
        body: {limit: "{page_size}", filterGroups: [...]}
        records_path: results
        paginator: {kind: cursor, token_path: paging.next.after, param: after, in: body}
        incremental: {since_format: epoch_ms, lookback: 1h}
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AuthKind = Literal[
    "none", "api_key", "bearer", "basic", "oauth2_client_credentials", "oauth2_refresh_token", "jwt_bearer"
]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int | float) -> timedelta:
    """`90s`, `15m`, `1h`, `3d` or plain seconds."""
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration: use a number with s, m, h or d (`1h`, `3d`)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JwtOptions(_Strict):
    """A signed JWT: the assertion of the JWT-bearer grant, or a client assertion (NetSuite M2M)."""

    private_key: str  # PEM
    algorithm: str = "RS256"
    issuer: str
    subject: str | None = None
    audience: str
    scope: str | None = None
    key_id: str | None = None
    lifetime_s: int = Field(default=180, gt=0)


class AuthOptions(_Strict):
    kind: AuthKind = "none"
    # api_key: `name` is the header or query parameter, `prefix` goes before the value ("Bearer ")
    name: str = "Authorization"
    location: Literal["header", "query"] = Field(default="header", alias="in")
    value: str | None = None
    prefix: str = ""
    # bearer
    token: str | None = None
    # basic
    username: str | None = None
    password: str | None = None
    # OAuth2 and JWT bearer
    token_url: str | None = None  # relative to base_url unless absolute
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    client_auth: Literal["body", "basic"] = "body"  # how client_id/secret travel to the token endpoint
    jwt: JwtOptions | None = None

    @model_validator(mode="after")
    def _complete(self) -> AuthOptions:
        needed = {
            "api_key": ["value"],
            "bearer": ["token"],
            "basic": ["username"],
            "oauth2_client_credentials": ["token_url", "client_id"],
            "oauth2_refresh_token": ["token_url", "client_id", "refresh_token"],
            "jwt_bearer": ["token_url", "jwt"],
        }.get(self.kind, [])
        missing = [key for key in needed if getattr(self, key) in (None, "")]
        if missing:
            raise ValueError(f"auth kind `{self.kind}` needs {', '.join(missing)}")
        if self.kind == "oauth2_client_credentials" and not (self.client_secret or self.jwt):
            raise ValueError("auth kind `oauth2_client_credentials` needs client_secret or jwt (a client assertion)")
        return self


class RetryOptions(_Strict):
    max_attempts: int = Field(default=6, ge=1)
    base_seconds: float = Field(default=0.5, ge=0)
    max_seconds: float = Field(default=30.0, ge=0)
    max_retry_after: float = Field(default=300.0, ge=0)


class LimitAnswer(_Strict):
    """An answer that says a limit was hit: one of `statuses` and, when any is given, a header value,
    a text in the body or a JSON value in the body (a dotted path; through a list, any item)."""

    statuses: list[int]
    header: str | None = None  # e.g. X-HubSpot-RateLimit-Daily-Remaining
    value: str = "0"  # the header's value when the limit is hit
    body_contains: str | None = None  # e.g. "TotalRequests Limit exceeded"
    body_path: str | None = None  # e.g. errors.extensions.code (Shopify GraphQL), error.code (Facebook)
    body_values: list[Any] = Field(default_factory=list)  # e.g. [THROTTLED], [4, 17, 613]

    @model_validator(mode="after")
    def _values_with_path(self) -> LimitAnswer:
        if bool(self.body_path) != bool(self.body_values):
            raise ValueError("`body_path` and `body_values` go together: the path, and the values that mean the limit")
        return self

    @property
    def conditions(self) -> bool:
        return bool(self.header or self.body_contains or self.body_path)


class QuotaOptions(LimitAnswer):
    """How the API says a daily (or monthly) quota is spent: the run stops cleanly, the next resumes."""

    statuses: list[int] = Field(default_factory=lambda: [403, 429])

    @model_validator(mode="after")
    def _told_apart(self) -> QuotaOptions:
        if not self.conditions:
            raise ValueError(
                "a quota needs `header`, `body_contains` or `body_path` to tell a spent quota from a passing throttle"
            )
        return self


class ThrottleOptions(LimitAnswer):
    """A passing limit the API does not answer with a plain 429 (Shopify GraphQL: 200 and THROTTLED;
    Salesforce: 403 REQUEST_LIMIT_EXCEEDED; Facebook: error codes 4, 17, 613): retried after a wait.

    The wait: a leaky bucket's refill when the answer says so (`cost_path`, `available_path`,
    `restore_rate_path`: (cost - available) / rate seconds), else `Retry-After`, else backoff with jitter.
    """

    statuses: list[int] = Field(default_factory=lambda: [429])
    cost_path: str | None = None  # e.g. extensions.cost.requestedQueryCost
    available_path: str | None = None  # e.g. extensions.cost.throttleStatus.currentlyAvailable
    restore_rate_path: str | None = None  # e.g. extensions.cost.throttleStatus.restoreRate (points a second)
    # a limit that outlasts the retries (an hourly window) stops the load as `stopped` instead of failing it
    stop_after_retries: bool = False

    @model_validator(mode="after")
    def _whole_bucket(self) -> ThrottleOptions:
        bucket = [self.cost_path, self.available_path, self.restore_rate_path]
        if any(bucket) and not all(bucket):
            raise ValueError("`cost_path`, `available_path` and `restore_rate_path` go together")
        return self


class RestOptions(_Strict):
    base_url: str
    auth: AuthOptions = Field(default_factory=AuthOptions)
    headers: dict[str, str] = Field(default_factory=dict)
    vars: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=30.0, gt=0)
    retry: RetryOptions = Field(default_factory=RetryOptions)
    quota: QuotaOptions | None = None
    throttle: list[ThrottleOptions] = Field(default_factory=list)
    page_size: int = Field(default=100, gt=0)
    start_date: str = "2000-01-01T00:00:00Z"  # where an incremental stream starts on its first run

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class PaginatorOptions(_Strict):
    """How to get the next page.

    - `cursor`: a token from the body (`token_path`, or `last_record` for Stripe's `starting_after`),
      sent back as `param`; stops when the token is empty or `stop_path` is false (`has_more`).
    - `offset` / `page_number`: `param` counts records or pages; stops on a short page or `stop_path` false.
    - `link_header`: the `Link: <...>; rel="next"` URL (Shopify REST, GitHub).
    - `next_url`: a URL in the body at `next_path` (Salesforce `nextRecordsUrl`, Facebook `paging.next`).
    - `odata`: `@odata.nextLink` (v4) or `d.__next` (v2), which carry the `$skiptoken`.
    """

    kind: Literal["none", "cursor", "offset", "page_number", "link_header", "next_url", "odata"] = "none"
    param: str | None = None
    location: Literal["query", "body"] = Field(default="query", alias="in")
    token_path: str | None = None
    last_record: str | None = None  # the token is this field of the page's last record
    stop_path: str | None = None  # a boolean in the body: false means the last page
    next_path: str | None = None
    limit_param: str | None = None  # offset/page_number: the page size parameter, when the API takes one
    start: int = 0  # first offset, or first page number

    @model_validator(mode="after")
    def _complete(self) -> PaginatorOptions:
        if self.kind in ("cursor", "offset", "page_number") and not self.param:
            raise ValueError(f"paginator kind `{self.kind}` needs `param`")
        if self.kind == "cursor" and not (self.token_path or self.last_record):
            raise ValueError("paginator kind `cursor` needs `token_path` or `last_record`")
        if self.kind == "next_url" and not self.next_path:
            raise ValueError("paginator kind `next_url` needs `next_path`")
        return self


class IncrementalOptions(_Strict):
    """Updated-since: the stream's `cursor_field` is compared, the largest value seen is the cursor.

    `{since}` in the path, params or body is the cursor minus `lookback`, formatted with
    `since_format` (a strftime pattern, or `epoch`, `epoch_ms`, `iso`, `date`).
    """

    since_format: str = "iso"
    lookback: str = "0s"
    until_format: str | None = None  # `{until}`: now, formatted (export APIs want an end)

    @field_validator("lookback")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class ParentOptions(_Strict):
    """A parent listing: the stream's request runs once per parent record, `{parent.<field>}` in it."""

    path: str
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, Any] = Field(default_factory=dict)
    records_path: str = ""
    fields: dict[str, str] = Field(default_factory=dict)  # child column <- parent dotted path


class EnrichOptions(_Strict):
    """One more call per record (HubSpot associations, NetSuite record details); `{record.<field>}`."""

    path: str
    params: dict[str, Any] = Field(default_factory=dict)
    records_path: str = ""
    into: str = ""  # dotted path in the record for the result; empty: the result replaces the record
    skip_empty: bool = True  # an empty list leaves the record as it was


class BulkOptions(_Strict):
    """Salesforce Bulk API 2.0 query jobs: create, poll, download CSV pages with `Sforce-Locator`."""

    kind: Literal["salesforce"] = "salesforce"
    path: str  # .../jobs/query
    query: str
    poll_seconds: float = Field(default=2.0, ge=0)
    max_polls: int = Field(default=900, gt=0)
    drop_columns: list[str] = Field(default_factory=list)


class FieldOptions(_Strict):
    """One field of the landed record, taken from the API's record: a dotted path, then conversions.

    In a source file a field is a path (`updated_at: updatedAt`) or these keys, applied in this order:
    `fields` (a list of objects, or an object: each mapped the same way), `join` (a list of strings,
    joined), `values` (an API's enum to the value kept; others pass unchanged), `times` (multiplied
    by another field of the same record: a weight in its unit to grams), `type` (a cast).
    """

    path: str
    fields: dict[str, FieldOptions] = Field(default_factory=dict)
    join: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    times: FieldOptions | None = None
    type: Literal["integer", "number", "string", "boolean"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_path_alone(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value


class RestStreamOptions(_Strict):
    path: str = ""
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str = ""
    dict_key_field: str | None = None  # records under a mapping (date -> record): the key goes to this field
    response: Literal["json", "jsonl", "zip_gzip_jsonl"] = "json"
    paginator: PaginatorOptions = Field(default_factory=PaginatorOptions)
    incremental: IncrementalOptions | None = None
    page_size: int | None = Field(default=None, gt=0)
    parent: ParentOptions | None = None
    enrich: list[EnrichOptions] = Field(default_factory=list)
    bulk: BulkOptions | None = None
    # GraphQL answers errors with HTTP 200: a non-empty value here fails the load with its message
    errors_path: str | None = None
    # the record that lands, built from the API's record (GraphQL camelCase to the names bronze keeps);
    # without it the API's record lands as it is
    fields: dict[str, FieldOptions] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_a_request(self) -> RestStreamOptions:
        if not self.path and self.bulk is None:
            raise ValueError("a REST stream needs `path` (or `bulk` for a Salesforce Bulk API 2.0 query)")
        return self
