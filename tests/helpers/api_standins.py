"""Local stand-ins for the SaaS APIs of the seed: one stdlib HTTP server, one path prefix per API.

`http://127.0.0.1:<port>/<api>` is the API's base URL. Each API serves the company generator's
records in its own envelope, with its own paging, filters and authentication:

- stripe: bearer secret key; `starting_after` + `has_more`; no updated-since filter (lists all).
- hubspot: OAuth2 refresh token; search `after` in the POST body; search filter `GTE` (ms).
- shopify: `X-Shopify-Access-Token`; REST `Link` header (`page_info`, refused with filters) and
  GraphQL `endCursor`; `updated_at_min`, `updated_at:>=`.
- salesforce: JWT bearer (RS256); `nextRecordsUrl`; Bulk API 2.0 jobs, CSV with `Sforce-Locator`;
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

Faults for the tests: `storm_every` (every n-th API request answers 429 with a tiny `Retry-After`),
`delay_s` (per request), `quota_left` (a daily quota per API), `expire_tokens()`, `revoke()`.
`advance(batch)` applies a generated increment (`company.generate_increment`) to the served data.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
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
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from company.systems import SYSTEMS
from loaders.rest.records import dig, to_instant

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
        self.token_grants: dict[str, int] = {}
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
            self.storm_every, self.delay_s, self.expire_at, self.rate_limited = 0, 0.0, 0, 0
            self.quota_left.clear()
            self.api_requests.clear()
            self.token_grants.clear()
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
            if call.api == "facebook_ads":
                return Reply.json({"error": {"message": "(#4) Application request limit reached", "code": 4}}, 403)
            body = {"status": "error", "message": "You have reached your daily limit.", "policyName": "DAILY"}
            return Reply.json(body, 429, {"X-HubSpot-RateLimit-Daily-Remaining": "0"})
        if self.storm_every and count % self.storm_every == 0:
            with self.lock:
                self.rate_limited += 1
            return Reply.json({"error": "rate limited"}, 429, {"Retry-After": "0.01"})
        if not self._authorized(call):
            return Reply.json({"error": "invalid_token", "error_description": "expired or unknown token"}, 401)
        handler: Callable[[Call], Reply] = getattr(self, f"_{call.api}")
        return handler(call)

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
            variables = call.json().get("variables", {})
            match = re.search(r"updated_at:>='([^']+)'", variables.get("query") or "")
            rows = self.rows("shopify", "products", to_instant(match.group(1)) if match else None)
            offset = _untoken(variables["after"])["o"] if variables.get("after") else 0
            page, following = self._page(rows, offset, int(variables.get("first", 10)))
            edges = [{"cursor": _token(offset + i + 1), "node": r} for i, r in enumerate(page)]
            info = {"hasNextPage": following is not None, "endCursor": edges[-1]["cursor"] if edges else None}
            return Reply.json({"data": {"products": {"edges": edges, "pageInfo": info}}})
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


def start_standin(company_dir: Path, page_size: int = 7) -> RunningStandIn:
    """The stand-in on a free loopback port, serving in a daemon thread."""
    standin = ApiStandIn(company_dir, page_size)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="api-standins", daemon=True)
    thread.start()
    return RunningStandIn(standin, server, thread)
