"""Local stand-ins for the SaaS APIs of the seed: one stdlib HTTP server, one path prefix per API.

`http://127.0.0.1:<port>/<api>` is the API's base URL. Each API serves the company generator's
records in its own envelope, with its own paging, filters and authentication:

- stripe: bearer secret key; `starting_after` + `has_more`; no updated-since filter (lists all).
- hubspot: OAuth2 refresh token; search `after` in the POST body; search filter `GTE` (ms).
- shopify: `X-Shopify-Access-Token`; REST `Link` header (`page_info`, refused with filters),
  `updated_at_min`; the Admin GraphQL API (`graphql_standin.py`): only the fields the query selects,
  by their GraphQL names (`updatedAt`, `legacyResourceId`, UTC times, enums in capitals), connections
  (`edges { cursor node }`, `pageInfo { hasNextPage endCursor }`, `first` required), the search syntax
  (`updated_at:>='...'`; an unknown field is ignored with a warning in `extensions.search`), the query
  cost in `extensions.cost`, and errors (an unknown field, a query over 1000 points) with HTTP 200.
- salesforce: JWT bearer (RS256), or a connected app's client credentials (its consumer key and secret,
  in the form or as basic); `nextRecordsUrl`; Bulk API 2.0 jobs, CSV with `Sforce-Locator`;
  SOQL `SystemModstamp >=` (only the selected fields are returned).
- google_ads: OAuth2 refresh token and `developer-token`; `nextPageToken`; GAQL `segments.date >=`.
- facebook_ads: `access_token` query parameter; `paging.next` URL; `filtering`, `time_range`.
- mixpanel: basic (service account); export JSON Lines by `from_date`/`to_date`; funnels list, then
  each funnel's days.
- amplitude: basic (API key, secret); export zip of gzipped JSON Lines by hour; users by page number.
- workday: OAuth2 refresh token; `offset`/`limit`, `total`; no updated-since filter.
- netsuite: OAuth2 client credentials with a PS256 client assertion; `offset`, `hasMore`, ids only
  (one call per record); `q=lastModifiedDate ON_OR_AFTER "MM/DD/YYYY"`.
- sap: basic; OData v2 `d.__next` with `$skiptoken`; `$filter=<field> ge datetimeoffset'...'`.

Faults for the tests, each answered the way the API answers it: `storm_every` (every n-th API
request, from the first, is throttled: Stripe 429 `rate_limit` and HubSpot 429 `TEN_SECONDLY_ROLLING`
without `Retry-After`, Shopify REST 429 with `Retry-After`, Shopify GraphQL 200 `THROTTLED` with its
cost bucket in `extensions.cost`, Salesforce 403 `REQUEST_LIMIT_EXCEEDED` (concurrent requests),
Facebook 400 with code 17, 613 or 80004, the rest 429 with `Retry-After`), `quota_left` (requests
until the API's quota is spent: HubSpot 429 `DAILY`, Salesforce 403 `TotalRequests Limit exceeded`,
Facebook 403 code 4, Google Ads 429 `RESOURCE_EXHAUSTED`), `delay_s` (per request), `expire_tokens()`,
`revoke()`.
`advance(batch)` applies a generated increment (`company.generate_increment`) to the served data;
`edit(api, stream, key, changes)` changes one record, as a user would in the application.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import operator
import re
import socket
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from company.systems import SYSTEMS
from loaders.rest.records import dig, put, to_instant
from tests.helpers import graphql_standin as graphql

APIS = (
    "salesforce",
    "hubspot",
    "shopify",
    "stripe",
    "google_ads",
    "facebook_ads",
    "mixpanel",
    "amplitude",
    "workday",
    "netsuite",
    "sap",
)
# The credentials the stand-ins accept; the tests put them in the environment the source files reference.
SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_standin_51Hx9stripe",
    "HUBSPOT_CLIENT_ID": "hubspot-client-standin",
    "HUBSPOT_CLIENT_SECRET": "hs-secret-standin-7f3a9c",
    "HUBSPOT_REFRESH_TOKEN": "hs-refresh-standin-0c1d2e3f",
    "SHOPIFY_ACCESS_TOKEN": "shpat_standin_8c2e41aa",
    "SALESFORCE_CLIENT_ID": "3MVG9standin-consumer-key",
    "SALESFORCE_CLIENT_SECRET": "sf-consumer-secret-standin-2b8e",
    "SALESFORCE_USERNAME": "integration@company.example",
    "GOOGLE_ADS_CLIENT_ID": "google-client-standin.apps.googleusercontent.com",
    "GOOGLE_ADS_CLIENT_SECRET": "GOCSPX-standin-secret",
    "GOOGLE_ADS_REFRESH_TOKEN": "1//standin-google-refresh",
    "GOOGLE_ADS_DEVELOPER_TOKEN": "devtoken-standin-123",
    "GOOGLE_ADS_CUSTOMER_ID": "1234567890",
    "FACEBOOK_ACCESS_TOKEN": "EAAstandinFacebookToken42",
    "FACEBOOK_AD_ACCOUNT_ID": "987654321012345",
    "MIXPANEL_USERNAME": "standin.sa.mixpanel",
    "MIXPANEL_SECRET": "mp-secret-standin-9911",
    "AMPLITUDE_API_KEY": "amp-key-standin-4455",
    "AMPLITUDE_SECRET_KEY": "amp-secret-standin-6677",
    "WORKDAY_CLIENT_ID": "workday-client-standin",
    "WORKDAY_CLIENT_SECRET": "wd-secret-standin-31",
    "WORKDAY_REFRESH_TOKEN": "wd-refresh-standin-77",
    "NETSUITE_CLIENT_ID": "netsuite-client-standin",
    "NETSUITE_CERTIFICATE_ID": "netsuite-cert-standin",
    "SAP_USERNAME": "COMM_USER_STANDIN",
    "SAP_PASSWORD": "sap-password-standin-55",
}


def _keypair() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Call:
    method: str
    api: str
    path: str  # under the API's prefix
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _token(offset: int, **extra: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, **extra}).encode()).decode().rstrip("=")


def _untoken(text: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


class ApiStandIn:
    """The served data, the faults, and one handler per API."""

    def __init__(self, company_dir: Path, page_size: int = 7) -> None:
        self.company_dir = company_dir
        self.page_size = page_size
        self.records: dict[tuple[str, str], dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.base_url = ""
        self.storm_every = 0
        self.delay_s = 0.0
        self.quota_left: dict[str, int] = {}
        self.expire_at = 0  # the API request after which every access token has expired (0: never)
        self.api_requests: dict[str, int] = {}
        self.rate_limited = 0
        self.asked_waits: list[float | None] = []  # per throttled request: the wait the API asked for, if any
        self.token_grants: dict[str, int] = {}
        self.token_requests: list[dict[str, Any]] = []  # the token endpoint's form and Authorization header
        self.graphql_variables: list[dict[str, Any]] = []  # of every Shopify GraphQL request, in order
        self._tokens: dict[str, str] = {}  # access token -> api
        self._revoked: set[str] = set()
        self._jobs: dict[str, dict[str, Any]] = {}
        self.salesforce_key, self._salesforce_public = _keypair()
        self.netsuite_key, self._netsuite_public = _keypair()
        self._count = 0
        for system in APIS:
            for spec in SYSTEMS[system].streams:
                self.records[(system, spec.stream)] = {}
        self.advance("-history")

    # --- data ---------------------------------------------------------------------------------

    def advance(self, batch_suffix: str) -> None:
        """Apply every generated file whose name ends with `<batch_suffix>.jsonl` (the history, or a day)."""
        with self.lock:
            for (system, stream), rows in self.records.items():
                spec = next(s for s in SYSTEMS[system].streams if s.stream == stream)
                for path in sorted((self.company_dir / system / stream).glob(f"*{batch_suffix}.jsonl")):
                    for line in path.read_text().splitlines():
                        if line.strip():
                            record = json.loads(line)
                            key = tuple(json.dumps(dig(record, k)) for k in spec.primary_key)
                            rows.pop(key, None)
                            rows[key] = record

    def edit(self, api: str, stream: str, key: tuple[Any, ...], changes: dict[str, Any]) -> dict[str, Any]:
        """Change one served record, as a user editing it in the API would (dotted paths to new values)."""
        with self.lock:
            rows = self.records[(api, stream)]
            wanted = tuple(json.dumps(value) for value in key)
            record = json.loads(json.dumps(rows.pop(wanted)))
            for path, value in changes.items():
                put(record, path, value)
            rows[wanted] = record
        return record

    def rows(self, api: str, stream: str, since: datetime | None = None, strict: bool = False) -> list[dict[str, Any]]:
        """The stream's current records updated at or after `since` (after, when `strict`), oldest first."""
        spec = next(s for s in SYSTEMS[api].streams if s.stream == stream)
        with self.lock:
            records = list(self.records[(api, stream)].values())

        def moment(record: dict[str, Any]) -> datetime:
            return to_instant(dig(record, spec.cursor_field or "")) or datetime.min.replace(tzinfo=UTC)

        if since is not None:
            records = [r for r in records if moment(r) > since or (not strict and moment(r) == since)]
        key = spec.primary_key
        return sorted(records, key=lambda r: (moment(r), [json.dumps(dig(r, k)) for k in key]))

    # --- faults and auth ----------------------------------------------------------------------

    def reset(self) -> None:
        """The history again, and no faults: what every test starts from."""
        with self.lock:
            for rows in self.records.values():
                rows.clear()
            self.storm_every, self.delay_s, self.expire_at, self.rate_limited, self._count = 0, 0.0, 0, 0, 0
            self.asked_waits.clear()
            self.quota_left.clear()
            self.api_requests.clear()
            self.token_grants.clear()
            self.graphql_variables.clear()
            self.token_requests.clear()
            self._revoked.clear()
            self._tokens.clear()
        self.advance("-history")

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def revoke(self, api: str) -> None:
        """The API's refresh token (or signing key) no longer works, and its access tokens are gone."""
        with self.lock:
            self._revoked.add(api)
            self._tokens = {t: a for t, a in self._tokens.items() if a != api}

    def _grant(self, api: str) -> Reply:
        if api in self._revoked:
            return Reply.json({"error": "invalid_grant", "error_description": "token revoked"}, 400)
        token = f"at-{api}-{uuid.uuid4().hex}"
        with self.lock:
            self._tokens[token] = api
            self.token_grants[api] = self.token_grants.get(api, 0) + 1
        return Reply.json({"access_token": token, "token_type": "Bearer", "expires_in": 1800})

    def _bearer_ok(self, call: Call) -> bool:
        header = call.headers.get("authorization", "")
        return header.startswith("Bearer ") and self._tokens.get(header[7:]) == call.api

    def _basic_ok(self, call: Call, user: str, password: str) -> bool:
        expected = base64.b64encode(f"{SECRETS[user]}:{SECRETS[password]}".encode()).decode()
        return call.headers.get("authorization") == f"Basic {expected}"

    def _token_endpoint(self, call: Call) -> Reply:
        form = call.form()
        api = call.api
        with self.lock:
            self.token_requests.append({"api": api, "form": form, "authorization": call.headers.get("authorization")})
        if api == "salesforce" and form.get("grant_type") == "client_credentials":
            # the client credentials flow of a connected app: its consumer key and secret, in the body or as basic
            if _client_of(call, form) != (SECRETS["SALESFORCE_CLIENT_ID"], SECRETS["SALESFORCE_CLIENT_SECRET"]):
                return Reply.json({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
            return self._grant(api)
        if api == "salesforce":
            try:
                claims = jwt.decode(form.get("assertion", ""), self._salesforce_public, ["RS256"], audience="standin")
            except jwt.PyJWTError:
                return Reply.json({"error": "invalid_grant", "error_description": "bad assertion"}, 400)
            if claims.get("iss") != SECRETS["SALESFORCE_CLIENT_ID"] or form.get("grant_type", "").find("jwt") < 0:
                return Reply.json({"error": "invalid_client"}, 400)
            return self._grant(api)
        if api == "netsuite":
            try:
                jwt.decode(form.get("client_assertion", ""), self._netsuite_public, ["PS256"], audience="standin")
            except jwt.PyJWTError:
                return Reply.json({"error": "invalid_client"}, 400)
            return self._grant(api)
        prefix = {"hubspot": "HUBSPOT", "google_ads": "GOOGLE_ADS", "workday": "WORKDAY"}[api]
        if form.get("refresh_token") != SECRETS[f"{prefix}_REFRESH_TOKEN"]:
            return Reply.json({"error": "invalid_grant"}, 400)
        if form.get("client_secret") != SECRETS[f"{prefix}_CLIENT_SECRET"]:
            return Reply.json({"error": "invalid_client"}, 401)
        return self._grant(api)

    def _authorized(self, call: Call) -> bool:
        api = call.api
        if api == "stripe":
            return call.headers.get("authorization") == f"Bearer {SECRETS['STRIPE_SECRET_KEY']}"
        if api == "shopify":
            return call.headers.get("x-shopify-access-token") == SECRETS["SHOPIFY_ACCESS_TOKEN"]
        if api == "facebook_ads":
            return call.query.get("access_token") == SECRETS["FACEBOOK_ACCESS_TOKEN"]
        if api == "mixpanel":
            return self._basic_ok(call, "MIXPANEL_USERNAME", "MIXPANEL_SECRET")
        if api == "amplitude":
            return self._basic_ok(call, "AMPLITUDE_API_KEY", "AMPLITUDE_SECRET_KEY")
        if api == "sap":
            return self._basic_ok(call, "SAP_USERNAME", "SAP_PASSWORD")
        if api == "google_ads" and call.headers.get("developer-token") != SECRETS["GOOGLE_ADS_DEVELOPER_TOKEN"]:
            return False
        return self._bearer_ok(call)

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, call: Call) -> Reply:
        if call.path.endswith("/token"):
            return self._token_endpoint(call)
        with self.lock:
            self._count += 1
            count = self._count
            self.api_requests[call.api] = self.api_requests.get(call.api, 0) + 1
            quota = self.quota_left.get(call.api)
            if quota is not None:
                self.quota_left[call.api] = quota - 1
            if self.expire_at and count > self.expire_at:
                self.expire_at = 0
                self._tokens.clear()
        if self.delay_s:
            time.sleep(self.delay_s)
        if quota is not None and quota <= 0:
            return self._quota_spent(call)
        if self.storm_every and (count - 1) % self.storm_every == 0:
            return self._throttled(call)
        if not self._authorized(call):
            return Reply.json({"error": "invalid_token", "error_description": "expired or unknown token"}, 401)
        handler: Callable[[Call], Reply] = getattr(self, f"_{call.api}")
        return handler(call)

    # --- limits: each API's own answers ----------------------------------------------------------

    def _quota_spent(self, call: Call) -> Reply:
        """The API's answer once the quota the test set (`quota_left`) is spent; it lasts until cleared."""
        if call.api == "hubspot":
            body = {
                "status": "error",
                "message": "You have reached your daily limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": "DAILY",
            }
            return Reply.json(
                body, 429, {"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "0"}
            )
        if call.api == "salesforce":  # the org's rolling 24-hour API request allocation
            body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            return Reply.json(body, 403)
        if call.api == "facebook_ads":  # no daily quota: the app's rolling one-hour limit, reached and staying
            usage = {"call_count": 100, "total_cputime": 41, "total_time": 57}
            return Reply.json(
                _facebook_error(4, "(#4) Application request limit reached"), 403, {"X-App-Usage": json.dumps(usage)}
            )
        if call.api == "google_ads":  # the developer token's daily operations
            body = {
                "error": {
                    "code": 429,
                    "message": "Resource has been exhausted (e.g. check quota).",
                    "status": "RESOURCE_EXHAUSTED",
                }
            }
            return Reply.json(body, 429)
        return Reply.json({"error": "quota exceeded"}, 429)

    def _throttled(self, call: Call) -> Reply:
        """A passing throttle (`storm_every`), answered as the API does; `asked_waits` records what it asked for."""
        asked: float | None = None
        reply: Reply
        if call.api == "stripe":  # 429 without Retry-After: clients back off
            message = (
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
            )
            error = {
                "code": "rate_limit",
                "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                "message": message,
            }
            reply = Reply.json({"error": {**error, "type": "invalid_request_error"}}, 429)
        elif call.api == "hubspot":  # the ten-second burst limit, not the daily one
            body = {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": "TEN_SECONDLY_ROLLING",
            }
            headers = {
                "X-HubSpot-RateLimit-Daily": "250000",
                "X-HubSpot-RateLimit-Daily-Remaining": "249000",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "0",
            }
            reply = Reply.json(body, 429, headers)
        elif call.api == "shopify" and call.path.endswith("/graphql.json"):
            reply, asked = self._shopify_throttled(call)
        elif call.api == "shopify":  # REST: the leaky bucket of 40 calls, 2 a second
            message = (
                "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
            )
            reply, asked = (
                Reply.json({"errors": message}, 429, {"Retry-After": "0.01", "X-Shopify-Shop-Api-Call-Limit": "40/40"}),
                0.01,
            )
        elif call.api == "salesforce":  # too many long-running requests at once: passes when they end
            body = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            reply = Reply.json(body, 403)
        elif call.api == "facebook_ads":  # user, per-app-per-call and ad account limits, in turn
            code, message = [
                (17, "(#17) User request limit reached"),
                (613, "(#613) Calls to this api have exceeded the rate limit."),
                (80004, "There have been too many calls to this ad-account. Wait a bit and try again."),
            ][self.rate_limited % 3]
            usage = {
                SECRETS["FACEBOOK_AD_ACCOUNT_ID"]: [
                    {"type": "ads_management", "call_count": 100, "estimated_time_to_regain_access": 1}
                ]
            }
            reply = Reply.json(_facebook_error(code, message), 400, {"X-Business-Use-Case-Usage": json.dumps(usage)})
        else:
            reply, asked = Reply.json({"error": "rate limited"}, 429, {"Retry-After": "0.01"}), 0.01
        with self.lock:
            self.rate_limited += 1
            self.asked_waits.append(asked)
        return reply

    def _shopify_throttled(self, call: Call) -> tuple[Reply, float]:
        """GraphQL is throttled by query cost: HTTP 200, a THROTTLED error, and the bucket's state."""
        request = call.json() or {}
        try:
            requested = shopify_query_cost(graphql.parse(request.get("query", "")), request.get("variables") or {})
        except graphql.QueryError:
            requested = 1
        available = max(0.0, requested - 1.0)  # one point short: refilled in 1 / restoreRate seconds
        cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": float(SHOPIFY_MAX_COST),
                "currentlyAvailable": available,
                "restoreRate": SHOPIFY_RESTORE_RATE,
            },
        }
        error = {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
        return Reply.json({"errors": [error], "extensions": {"cost": cost}}), (
            requested - available
        ) / SHOPIFY_RESTORE_RATE

    def _page(self, rows: list[dict[str, Any]], offset: int, size: int | None = None) -> tuple[list[Any], int | None]:
        size = size or self.page_size
        page = rows[offset : offset + size]
        return page, offset + size if offset + size < len(rows) else None

    # --- the APIs -----------------------------------------------------------------------------

    def _stripe(self, call: Call) -> Reply:
        stream = call.path.removeprefix("/v1/")
        rows = sorted(self.rows("stripe", stream), key=lambda r: (-r["created"], r["id"]))
        after = call.query.get("starting_after")
        offset = next(i + 1 for i, r in enumerate(rows) if r["id"] == after) if after else 0
        page, following = self._page(rows, offset, int(call.query.get("limit", 10)))
        return Reply.json({"object": "list", "url": call.path, "has_more": following is not None, "data": page})

    def _hubspot(self, call: Call) -> Reply:
        association = re.fullmatch(r"/crm/v3/objects/deals/(\d+)/associations/companies", call.path)
        if association:
            deal = self.records[("hubspot", "deals")].get((json.dumps(association.group(1)),), {})
            return Reply.json({"results": dig(deal, "associations.companies.results") or []})
        stream = re.fullmatch(r"/crm/v3/objects/(\w+)/search", call.path)
        if not stream or call.method != "POST":
            return Reply.json({"message": "not found"}, 404)
        body = call.json()
        filters = [f for g in body.get("filterGroups", []) for f in g.get("filters", [])]
        since = next((to_instant(int(f["value"])) for f in filters if f.get("operator") == "GTE"), None)
        rows = self.rows("hubspot", stream.group(1), since)
        page, following = self._page(rows, int(body.get("after") or 0), int(body.get("limit", 10)))
        page = [{k: v for k, v in r.items() if k != "associations"} for r in page]
        reply: dict[str, Any] = {"total": len(rows), "results": page}
        if following is not None:
            reply["paging"] = {"next": {"after": str(following)}}
        return Reply.json(reply)

    def _shopify(self, call: Call) -> Reply:
        if call.path.endswith("/graphql.json"):
            return self._shopify_graphql(call)
        stream = re.fullmatch(r"/admin/api/2024-01/(\w+)\.json", call.path)
        if not stream:
            return Reply.json({"errors": "Not Found"}, 404)
        if "page_info" in call.query:
            if "updated_at_min" in call.query:
                return Reply.json({"errors": {"page_info": "Invalid value: no filters with page_info"}}, 400)
            state = _untoken(call.query["page_info"])
            since, offset = state.get("min"), state["o"]
        else:
            since, offset = call.query.get("updated_at_min"), 0
        rows = self.rows("shopify", stream.group(1), to_instant(since) if since else None)
        limit = int(call.query.get("limit", 50))
        page, following = self._page(rows, offset, limit)
        headers = {}
        if following is not None:
            query = urlencode({"limit": limit, "page_info": _token(following, min=since)})
            headers["Link"] = f'<{self.base_url}/shopify{call.path}?{query}>; rel="next"'
        return Reply.json({stream.group(1): page}, headers=headers)

    def _shopify_graphql(self, call: Call) -> Reply:
        """The Admin GraphQL API: the fields the query selects, by their GraphQL names, in connections."""
        request = call.json() if call.method == "POST" else None
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return Reply.json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        variables = request.get("variables") or {}
        self.graphql_variables.append(variables)
        try:
            operation = graphql.parse(request["query"])
        except graphql.QueryError as exc:
            return Reply.json({"errors": [exc.answer()]})
        requested = shopify_query_cost(operation, variables)
        if requested > SHOPIFY_MAX_COST:
            message = f"Query cost is {requested}, which exceeds the single query max cost limit ({SHOPIFY_MAX_COST})."
            error = {"message": message, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested}}
            return Reply.json({"errors": [error]})
        search: list[dict[str, Any]] = []
        answer = graphql.execute(self._shopify_schema(search), "QueryRoot", None, operation, variables)
        actual = _objects_in(answer.get("data"))
        cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": float(SHOPIFY_MAX_COST),
                "currentlyAvailable": float(SHOPIFY_MAX_COST - actual),
                "restoreRate": SHOPIFY_RESTORE_RATE,
            },
        }
        answer["extensions"] = {"cost": cost, **({"search": search} if search else {})}
        return Reply.json(answer)

    def _shopify_schema(self, search: list[dict[str, Any]]) -> graphql.Schema:
        """Shopify's product types (Admin API 2024-01), resolved from the REST-shaped generated records."""

        def plain(key: str) -> graphql.Field:
            return graphql.Field(None, lambda r, _: r.get(key))

        def instant(key: str) -> graphql.Field:  # GraphQL's DateTime is UTC; REST's is shop-local
            return graphql.Field(None, lambda r, _: _utc(r.get(key)))

        def products(_: Any, args: dict[str, Any]) -> dict[str, Any]:
            rows = self.rows("shopify", "products")
            if args.get("query"):
                rows = _shopify_search(rows, args["query"], search)
            return _connection(rows, args, "Product", str(args.get("sortKey") or "ID"))

        def variants(product: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
            items = [{**variant, "_product": product} for variant in product.get("variants") or []]
            return _connection(items, args, "ProductVariant", "ID")

        def options(product: dict[str, Any], args: dict[str, Any]) -> list[dict[str, Any]]:
            found = [{**o, "position": i + 1, "_product": product} for i, o in enumerate(product.get("options") or [])]
            return found[: args["first"]] if args.get("first") else found

        page_info = {name: plain(name) for name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")}
        return {
            "QueryRoot": {"products": graphql.Field("ProductConnection", products)},
            "ProductConnection": _connection_types("Product")[0],
            "ProductEdge": _connection_types("Product")[1],
            "ProductVariantConnection": _connection_types("ProductVariant")[0],
            "ProductVariantEdge": _connection_types("ProductVariant")[1],
            "PageInfo": page_info,
            "Product": {
                "id": plain("admin_graphql_api_id"),
                "legacyResourceId": graphql.Field(None, lambda r, _: str(r["id"])),
                "title": plain("title"),
                "descriptionHtml": plain("body_html"),
                "vendor": plain("vendor"),
                "productType": plain("product_type"),
                "handle": plain("handle"),
                "status": graphql.Field(None, lambda r, _: str(r["status"]).upper()),
                "tags": graphql.Field(None, lambda r, _: [t.strip() for t in (r.get("tags") or "").split(",") if t]),
                "createdAt": instant("created_at"),
                "updatedAt": instant("updated_at"),
                "publishedAt": instant("published_at"),
                "options": graphql.Field("ProductOption", options),
                "variants": graphql.Field("ProductVariantConnection", variants),
            },
            "ProductOption": {
                "id": graphql.Field(
                    None, lambda o, _: f"gid://shopify/ProductOption/{o['_product']['id']}{o['position']}"
                ),
                "name": plain("name"),
                "position": plain("position"),
                "values": plain("values"),
            },
            "ProductVariant": {
                "id": graphql.Field(None, lambda v, _: f"gid://shopify/ProductVariant/{v['id']}"),
                "legacyResourceId": graphql.Field(None, lambda v, _: str(v["id"])),
                "title": plain("title"),
                "sku": plain("sku"),
                "price": plain("price"),  # Money: a decimal in a string
                "weight": plain("weight"),
                "weightUnit": graphql.Field(None, lambda v, _: _WEIGHT_UNITS.get(v.get("weight_unit"))),
                "taxable": plain("taxable"),
                "createdAt": instant("created_at"),
                "updatedAt": instant("updated_at"),
                "inventoryItem": graphql.Field("InventoryItem", lambda v, _: v),
                "product": graphql.Field("Product", lambda v, _: v["_product"]),
            },
            "InventoryItem": {
                "id": graphql.Field(None, lambda v, _: f"gid://shopify/InventoryItem/{v['id']}"),
                "legacyResourceId": graphql.Field(None, lambda v, _: str(v["id"])),
                "requiresShipping": plain("requires_shipping"),
                "sku": plain("sku"),
            },
        }

    _SF_OBJECTS: ClassVar[dict[str, str]] = {"Lead": "leads", "Opportunity": "opportunities", "Account": "accounts"}
    _SOQL = re.compile(r"SELECT (.+?) FROM (\w+)(?: WHERE SystemModstamp >= (\S+))?(?: ORDER BY SystemModstamp)?$")

    def _soql(self, soql: str) -> list[dict[str, Any]] | None:
        match = self._SOQL.match(soql.strip())
        if not match or match.group(2) not in self._SF_OBJECTS:
            return None
        fields = [f.strip() for f in match.group(1).split(",")]
        rows = self.rows("salesforce", self._SF_OBJECTS[match.group(2)], to_instant(match.group(3)))
        return [{"attributes": r["attributes"], **{f: r.get(f) for f in fields}} for r in rows]

    def _salesforce(self, call: Call) -> Reply:
        base = "/services/data/v58.0"
        if call.path == f"{base}/jobs/query" and call.method == "POST":
            rows = self._soql(call.json()["query"])
            if rows is None:
                return Reply.json([{"errorCode": "INVALIDJOB", "message": "bad query"}], 400)
            job = f"750{uuid.uuid4().hex[:15]}"
            self._jobs[job] = {"rows": [{k: v for k, v in r.items() if k != "attributes"} for r in rows], "polls": 0}
            return Reply.json({"id": job, "operation": "query", "state": "UploadComplete"})
        bulk = re.fullmatch(rf"{base}/jobs/query/(\w+)(/results)?", call.path)
        if bulk:
            job = self._jobs[bulk.group(1)]
            if not bulk.group(2):
                job["polls"] += 1
                return Reply.json({"id": bulk.group(1), "state": "JobComplete" if job["polls"] > 1 else "InProgress"})
            offset = _untoken(call.query["locator"])["o"] if call.query.get("locator") else 0
            page, following = self._page(job["rows"], offset, int(call.query.get("maxRecords", 1000)))
            return Reply(
                200,
                _csv(page),
                {"Content-Type": "text/csv", "Sforce-Locator": _token(following) if following else "null"},
            )
        if call.path == f"{base}/query":
            rows, offset, soql = self._soql(call.query.get("q", "")), 0, call.query.get("q", "")
        elif call.path.startswith(f"{base}/query/"):
            state = _untoken(call.path.rsplit("/", 1)[1])
            rows, offset, soql = self._soql(state["q"]), state["o"], state["q"]
        else:
            return Reply.json([{"errorCode": "NOT_FOUND"}], 404)
        if rows is None:
            return Reply.json([{"errorCode": "MALFORMED_QUERY", "message": "unsupported query"}], 400)
        page, following = self._page(rows, offset)
        reply: dict[str, Any] = {"totalSize": len(rows), "done": following is None, "records": page}
        if following is not None:
            reply["nextRecordsUrl"] = f"{base}/query/{_token(following, q=soql)}"
        return Reply.json(reply)

    def _google_ads(self, call: Call) -> Reply:
        if not re.fullmatch(rf"/v16/customers/{SECRETS['GOOGLE_ADS_CUSTOMER_ID']}/googleAds:search", call.path):
            return Reply.json({"error": {"code": 404}}, 404)
        body = call.json()
        match = re.search(r"FROM (\w+)(?: WHERE segments\.date >= '([\d-]+)')?", body.get("query", ""))
        if not match:
            return Reply.json({"error": {"code": 400, "message": "bad GAQL"}}, 400)
        stream = {"campaign": "campaigns", "ad_group": "ad_groups"}[match.group(1)]
        rows = self.rows("google_ads", stream, to_instant(match.group(2)) if match.group(2) else None)
        offset = _untoken(body["pageToken"])["o"] if body.get("pageToken") else 0
        page, following = self._page(rows, offset)
        reply: dict[str, Any] = {"results": page, "fieldMask": "campaign.id,metrics.clicks,segments.date"}
        if following is not None:
            reply["nextPageToken"] = _token(following)
        return Reply.json(reply)

    def _facebook_ads(self, call: Call) -> Reply:
        match = re.fullmatch(rf"/v19\.0/act_{SECRETS['FACEBOOK_AD_ACCOUNT_ID']}/(campaigns|insights)", call.path)
        if not match:
            return Reply.json({"error": {"code": 803, "message": "unknown path"}}, 400)
        if match.group(1) == "campaigns":
            rules = json.loads(call.query.get("filtering", "[]"))
            since = next((to_instant(int(r["value"])) for r in rules if r.get("operator") == "GREATER_THAN"), None)
            rows = self.rows("facebook_ads", "campaigns", since, strict=True)
        else:
            window = json.loads(call.query.get("time_range", "{}"))
            rows = self.rows("facebook_ads", "ads", to_instant(window["since"]) if "since" in window else None)
        offset = _untoken(call.query["after"])["o"] if call.query.get("after") else 0
        page, following = self._page(rows, offset, int(call.query.get("limit", 25)))
        paging: dict[str, Any] = {"cursors": {"before": _token(offset), "after": _token(following or offset)}}
        if following is not None:
            query = {**call.query, "after": _token(following)}
            paging["next"] = f"{self.base_url}/facebook_ads{call.path}?{urlencode(query)}"
        return Reply.json({"data": page, "paging": paging})

    def _mixpanel(self, call: Call) -> Reply:
        if call.path == "/api/2.0/export":
            first, last = call.query["from_date"], call.query["to_date"]
            events = [
                e
                for e in self.rows("mixpanel", "events")
                if first <= datetime.fromtimestamp(e["properties"]["time"], UTC).date().isoformat() <= last
            ]
            body = "".join(json.dumps(e) + "\n" for e in events).encode()
            return Reply(200, body, {"Content-Type": "text/plain"})
        funnels = self.rows("mixpanel", "funnels")
        if call.path == "/api/2.0/funnels/list":
            names = {f["funnel_id"]: f["name"] for f in funnels}
            return Reply.json([{"funnel_id": k, "name": v} for k, v in sorted(names.items())])
        if call.path == "/api/2.0/funnels":
            wanted = int(call.query["funnel_id"])
            first, last = call.query["from_date"], call.query["to_date"]
            days = [f for f in funnels if f["funnel_id"] == wanted and first <= f["date"] <= last]
            data = {f["date"]: {"steps": f["steps"], "analysis": f["analysis"]} for f in days}
            return Reply.json({"meta": {"dates": sorted(data)}, "data": data})
        return Reply.json({"error": "unknown path"}, 404)

    def _amplitude(self, call: Call) -> Reply:
        if call.path == "/api/2/export":
            start = datetime.strptime(call.query["start"], "%Y%m%dT%H").replace(tzinfo=UTC)
            end = datetime.strptime(call.query["end"], "%Y%m%dT%H").replace(tzinfo=UTC)
            events = [e for e in self.rows("amplitude", "events", start) if _hour(e["server_upload_time"]) <= end]
            if not events:
                return Reply(404, b"Raw data files were not found.")
            return Reply(200, _amplitude_zip(events), {"Content-Type": "application/zip"})
        if call.path == "/api/2/users":
            since = call.query.get("updated_since")
            rows = self.rows("amplitude", "user_properties", to_instant(since) if since else None)
            size = int(call.query.get("limit", 10))
            page, _ = self._page(rows, (int(call.query.get("page", 1)) - 1) * size, size)
            return Reply.json({"users": page, "page": int(call.query.get("page", 1))})
        return Reply.json({"error": "unknown path"}, 404)

    def _workday(self, call: Call) -> Reply:
        match = re.fullmatch(r"/ccx/api/v1/northwind/(workers|positions|supervisoryOrganizations)", call.path)
        if not match:
            return Reply.json({"error": "not found"}, 404)
        stream = {"workers": "employees", "positions": "positions", "supervisoryOrganizations": "organizations"}
        rows = sorted(self.rows("workday", stream[match.group(1)]), key=lambda r: r["id"])
        page, _ = self._page(rows, int(call.query.get("offset", 0)), int(call.query.get("limit", 20)))
        return Reply.json({"total": len(rows), "data": page})

    _NS_TYPES: ClassVar[dict[str, str]] = {
        "customer": "customers",
        "salesOrder": "sales_orders",
        "inventoryItem": "inventory_items",
    }

    def _netsuite(self, call: Call) -> Reply:
        one = re.fullmatch(r"/services/rest/record/v1/(\w+)/(\d+)", call.path)
        if one:
            found = [r for r in self.rows("netsuite", self._NS_TYPES[one.group(1)]) if r["id"] == one.group(2)]
            return Reply.json(found[0]) if found else Reply.json({"title": "Not Found"}, 404)
        many = re.fullmatch(r"/services/rest/record/v1/(\w+)", call.path)
        if not many or many.group(1) not in self._NS_TYPES:
            return Reply.json({"title": "Not Found"}, 404)
        match = re.search(r'lastModifiedDate ON_OR_AFTER "([^"]+)"', call.query.get("q", ""))
        since = datetime.strptime(match.group(1), "%m/%d/%Y").replace(tzinfo=UTC) if match else None
        rows = self.rows("netsuite", self._NS_TYPES[many.group(1)], since)
        offset, limit = int(call.query.get("offset", 0)), int(call.query.get("limit", 1000))
        page, following = self._page(rows, offset, limit)
        items = [{"links": r["links"], "id": r["id"]} for r in page]
        return Reply.json(
            {
                "links": [],
                "count": len(items),
                "hasMore": following is not None,
                "items": items,
                "offset": offset,
                "totalResults": len(rows),
            }
        )

    _SAP_SETS: ClassVar[dict[str, str]] = {
        "API_SALES_ORDER_SRV/A_SalesOrder": "sales_orders",
        "API_PRODUCT_SRV/A_Product": "material_master",
        "API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic": "financial_documents",
    }

    def _sap(self, call: Call) -> Reply:
        entity = call.path.removeprefix("/sap/opu/odata/sap/")
        if entity not in self._SAP_SETS:
            return Reply.json({"error": {"code": "/IWFND/MED/170", "message": {"value": "No service found"}}}, 404)
        match = re.search(r"(\w+) ge datetimeoffset'([^']+)'", call.query.get("$filter", ""))
        rows = self.rows("sap", self._SAP_SETS[entity], to_instant(match.group(2)) if match else None)
        if "to_Item" not in call.query.get("$expand", ""):
            rows = [{k: v for k, v in r.items() if k != "to_Item"} for r in rows]
        page, following = self._page(rows, int(call.query.get("$skiptoken", 0)))
        data: dict[str, Any] = {"results": page}
        if following is not None:
            query = {k: v for k, v in call.query.items()} | {"$skiptoken": str(following)}
            data["__next"] = f"{self.base_url}/sap{call.path}?{urlencode(query)}"
        return Reply.json({"d": data})


SHOPIFY_MAX_COST = 1000  # the single-query limit and the bucket size of a standard shop (Admin API 2024-01)
SHOPIFY_RESTORE_RATE = 50.0  # points per second
_WEIGHT_UNITS = {"g": "GRAMS", "kg": "KILOGRAMS", "oz": "OUNCES", "lb": "POUNDS"}
_SEARCH_TERM = re.compile(r"""(?:(\w+):(>=|<=|>|<)?)?('[^']*'|"[^"]*"|\S+)""")
_TIME_FIELDS = ("updated_at", "created_at", "published_at")
_TEXT_FIELDS = ("title", "status", "vendor", "product_type", "handle")


def shopify_query_cost(operation: graphql.Operation, variables: dict[str, Any]) -> int:
    """Shopify's requested cost, simplified: an object costs 1 and a connection 2 plus `first` times the
    cost of one of its nodes (scalars are free). The single-query limit is 1000."""

    def cost(selections: list[graphql.Selection]) -> int:
        total = 0
        for selection in selections:
            args = graphql.arguments(selection, variables, operation.defaults)
            size = args.get("first") or args.get("last")
            if isinstance(size, int):
                nodes = [n for edge in selection.children if edge.name == "edges" for n in edge.children]
                nodes += [n for n in selection.children if n.name == "nodes"]
                per_node = max((1 + cost(n.children) for n in nodes if n.name in ("node", "nodes")), default=1)
                total += 2 + size * per_node
            elif selection.children and selection.name not in ("edges", "node", "nodes", "pageInfo"):
                total += 1 + cost(selection.children)
            else:
                total += cost(selection.children)
        return total

    return cost(operation.selections)


def _objects_in(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + sum(_objects_in(v) for v in data.values())
    if isinstance(data, list):
        return sum(_objects_in(v) for v in data)
    return 0


def _utc(value: Any) -> str | None:
    moment = to_instant(value)
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _connection_types(node: str) -> tuple[dict[str, graphql.Field], dict[str, graphql.Field]]:
    connection = {
        "edges": graphql.Field(f"{node}Edge", lambda c, _: c["edges"]),
        "nodes": graphql.Field(node, lambda c, _: [e["node"] for e in c["edges"]]),
        "pageInfo": graphql.Field("PageInfo", lambda c, _: c["pageInfo"]),
    }
    edge = {
        "cursor": graphql.Field(None, lambda e, _: e["cursor"]),
        "node": graphql.Field(node, lambda e, _: e["node"]),
    }
    return connection, edge


def _connection(items: list[dict[str, Any]], args: dict[str, Any], node: str, sort_key: str) -> dict[str, Any]:
    """A connection page as Shopify serves it: `first` (at most 250) after an opaque cursor that holds
    the last node's sort value and id, so pages stay right while records change between requests."""
    first = args.get("first")
    if not isinstance(first, int):
        raise graphql.QueryError("you must provide one of first or last", "BAD_REQUEST")
    if not 0 < first <= 250:
        raise graphql.QueryError(f"first must be between 1 and 250 (got {first})", "BAD_REQUEST")

    def position(item: dict[str, Any]) -> tuple[str, int]:
        value = (_utc(item.get("updated_at")) or "") if sort_key == "UPDATED_AT" else ""
        return value, int(item["id"])

    ordered = sorted(items, key=position, reverse=bool(args.get("reverse")))
    if args.get("after"):
        try:
            last = _untoken(str(args["after"]))
            mark = (last["v"], last["id"])
        except (ValueError, KeyError):
            raise graphql.QueryError(f"Invalid cursor for {node} connection", "BAD_REQUEST") from None
        ordered = [i for i in ordered if (position(i) < mark if args.get("reverse") else position(i) > mark)]
    page = ordered[:first]
    edges = [{"cursor": _cursor(position(i)), "node": i} for i in page]
    info = {
        "hasNextPage": len(ordered) > first,
        "hasPreviousPage": bool(args.get("after")),
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"edges": edges, "pageInfo": info}


def _cursor(position: tuple[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": position[0], "id": position[1]}).encode()).decode().rstrip("=")


def _shopify_search(rows: list[dict[str, Any]], query: str, warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shopify's search syntax, the part a loader uses: `updated_at:>='2024-01-01T00:00:00Z'` (and
    `>`, `<`, `<=`, no comparator: equal), text fields by equality, terms joined by AND. A field the
    resource cannot be searched by is ignored, with a warning in `extensions.search`, as Shopify does."""
    kept = rows
    for match in _SEARCH_TERM.finditer(query):
        name, comparator, raw = match.group(1), match.group(2) or "", match.group(3)
        if name is None and raw.upper() in ("AND", "OR"):
            continue
        value = raw[1:-1] if raw[:1] in "'\"" and len(raw) > 1 else raw
        if name in _TIME_FIELDS:
            moment = to_instant(value)
            if moment is None:
                warnings.append(_search_warning(query, name, "Invalid date or time value."))
                continue
            compare = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "": operator.eq}
            test = compare[comparator]
            kept = [r for r in kept if (m := to_instant(r.get(name))) is not None and test(m, moment)]
        elif name in _TEXT_FIELDS:
            kept = [r for r in kept if str(r.get(name, "")).lower() == value.lower()]
        elif name is None:
            kept = [r for r in kept if value.lower() in str(r.get("title", "")).lower()]
        else:
            warnings.append(_search_warning(query, name, "Invalid search field for this query."))
    return kept


def _search_warning(query: str, field_name: str, message: str) -> dict[str, Any]:
    return {"path": ["products"], "query": query, "warnings": [{"field": field_name, "message": message}]}


def _client_of(call: Call, form: dict[str, str]) -> tuple[str | None, str | None]:
    """An OAuth2 client's id and secret: HTTP basic (RFC 6749 §2.3.1, form-encoded) or the form's fields."""
    header = call.headers.get("authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(user), unquote_plus(password)
    return form.get("client_id"), form.get("client_secret")


def _facebook_error(code: int, message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "is_transient": True,
            "code": code,
            "fbtrace_id": "AbC123standin",
        }
    }


def _hour(text: str) -> datetime:
    return datetime.strptime(text[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)


def _amplitude_zip(events: list[dict[str, Any]]) -> bytes:
    """Amplitude's export: a zip with one gzipped JSON Lines file per hour of upload time."""
    hours: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        stamp = _hour(event["server_upload_time"])
        hours.setdefault(f"412345/412345_{stamp:%Y-%m-%d}_{stamp.hour}#0.json.gz", []).append(event)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, members in sorted(hours.items()):
            archive.writestr(name, gzip.compress("".join(json.dumps(e) + "\n" for e in members).encode()))
    return buffer.getvalue()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    if not rows:
        return b""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    return out.getvalue().encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms to each answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        api, _, rest = parts.path.lstrip("/").partition("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        standin = self.server.standin
        if api not in APIS:
            reply = Reply.json({"error": f"no API {api!r}"}, 404)
        else:
            try:
                reply = standin.handle(Call(method, api, f"/{rest}", query, headers, body))
            except Exception as exc:  # a stand-in bug shows up as a 500 the test sees
                reply = Reply.json({"error": f"stand-in failed: {type(exc).__name__}: {exc}"}, 500)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: ApiStandIn


@dataclass
class RunningStandIn:
    standin: ApiStandIn
    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.standin.base_url

    def base_url(self, api: str) -> str:
        return f"{self.url}/{api}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def source_environment(running: RunningStandIn, home: Path) -> dict[str, str]:
    """The environment `sources/rest/*.yml` read, pointed at the stand-in: base URLs, secrets, keys,
    small pages; `home` is the LAKEHOUSE_HOME whose samples hold the company (Segment's files)."""
    environment = dict(SECRETS)
    for name in APIS:
        environment[f"{name.upper()}_BASE_URL"] = running.base_url(name)
        environment[f"{name.upper()}_PAGE_SIZE"] = "10"
    environment |= {
        "FACEBOOK_BASE_URL": running.base_url("facebook_ads"),
        "FACEBOOK_PAGE_SIZE": "10",
        "GOOGLE_OAUTH_TOKEN_URL": f"{running.base_url('google_ads')}/token",
        "SALESFORCE_PRIVATE_KEY": running.standin.salesforce_key,
        "NETSUITE_PRIVATE_KEY": running.standin.netsuite_key,
        "SALESFORCE_AUDIENCE": "standin",
        "NETSUITE_AUDIENCE": "standin",
        "LAKEHOUSE_HOME": str(home),
        "SEGMENT_FILES_PATH": str(home / "samples" / "company" / "segment"),
    }
    return environment


def start_standin(company_dir: Path, page_size: int = 7) -> RunningStandIn:
    """The stand-in on a free loopback port, serving in a daemon thread."""
    standin = ApiStandIn(company_dir, page_size)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="api-standins", daemon=True)
    thread.start()
    return RunningStandIn(standin, server, thread)
