"""The HTTP client: one httpx client per source, with auth, retries, rate limits and quotas.

- 429 (and 503 with `Retry-After`) waits what the API asks, then retries; other 5xx, timeouts and
  connection errors back off with full jitter (`loaders.core.retry.RetryPolicy`).
- The source's `throttle:` rules catch the limits an API answers otherwise (Shopify GraphQL: 200 and
  `THROTTLED`, waiting until its cost bucket has refilled; Salesforce: 403 `REQUEST_LIMIT_EXCEEDED`;
  Facebook: error codes 4, 17, 613): retried the same way; with `stop_after_retries`, a limit that
  outlasts the retries stops the load like a spent quota.
- A spent daily quota (the source's `quota:` rule) raises `QuotaExhaustedError`: no retry, the load stops
  cleanly and the next run resumes from the committed cursor.
- 401 with a token kind fetches a new token and retries once; a second 401 is a `ConfigError`.
- Other 4xx answers are `SourceError`s naming the status and the request's path (never its query,
  which may carry a key).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.retry import (
    QuotaExhaustedError,
    RateLimitedError,
    RetryPolicy,
    TransientSourceError,
    call_with_retry,
    parse_retry_after,
)
from loaders.rest.auth import Auth
from loaders.rest.options import LimitAnswer, RestOptions, ThrottleOptions
from loaders.rest.records import dig

USER_AGENT = "lakehouse-loaders-rest/1"
T = TypeVar("T")


@dataclass
class Request:
    """One request, as a stream's cursor stores it to resume (never with credentials in it)."""

    method: str
    url: str  # a path under base_url, or an absolute URL (a next link)
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None

    def state(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "params": self.params, "json": self.json}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Request:
        return cls(data["method"], data["url"], dict(data.get("params") or {}), data.get("json"))


class RestClient:
    def __init__(
        self,
        options: RestOptions,
        source: str,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.options = options
        self.source = source
        self.policy = retry or RetryPolicy(
            max_attempts=options.retry.max_attempts,
            base_seconds=options.retry.base_seconds,
            max_seconds=options.retry.max_seconds,
            max_retry_after=options.retry.max_retry_after,
        )
        self.http = httpx.Client(
            timeout=options.timeout_s,
            headers={"User-Agent": USER_AGENT, **options.headers},
            transport=transport,
            follow_redirects=True,
        )
        self.auth = Auth(options.auth, source, options.base_url, self._post_token)
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.options.base_url}{path}"

    def clean(self, url: str) -> str:
        """`url` without the API key parameter (Facebook's `paging.next` repeats the access_token)."""
        name = self.auth.query_param
        if name is None or "?" not in url:
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def send(self, request: Request, *, headers: dict[str, str] | None = None) -> httpx.Response:
        """The response of `request` (2xx), after retries; errors as described in the module."""
        return self._retried(lambda: self._send_authenticated(request, headers or {}))

    def _retried(self, action: Callable[[], T]) -> T:
        try:
            return call_with_retry(action, policy=self.policy)
        except _PersistentThrottle as exc:
            raise QuotaExhaustedError(
                f"{exc.cause}, still after {self.policy.max_attempts} attempts: the API's limit outlasts the retries",
                "nothing to do: the next run resumes from the committed cursor once the limit has reset",
            ) from None

    def download(self, request: Request) -> IO[bytes]:
        """The response body in a temporary file (exports can be gigabytes), positioned at its start."""

        def attempt() -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - handed to the caller
            opened = self._open(request, {}, stream=True)
            if opened.status_code == 401 and self.auth.refreshable:
                opened.response.close()
                self.auth.refresh()
                opened = self._open(request, {}, stream=True)
            with opened as response:
                self._check(response, request, stream=True)
                for chunk in response.iter_bytes(1 << 20):
                    spool.write(chunk)
            spool.seek(0)
            return spool

        return self._retried(attempt)

    def _send_authenticated(self, request: Request, headers: dict[str, str]) -> httpx.Response:
        response = self._open(request, headers)
        if response.status_code == 401 and self.auth.refreshable:
            self.auth.refresh()  # an expired token: one new token, one more try
            response = self._open(request, headers)
        self._check(response, request)
        return response

    def _open(self, request: Request, extra: dict[str, str], *, stream: bool = False) -> Any:
        headers = dict(extra)
        params = dict(request.params)
        basic = self.auth.apply(headers, params)
        self.requests += 1
        # httpx replaces a URL's query with `params`: merge them, a next link's query stays
        url = httpx.URL(self.url(request.url)).copy_merge_params(params)
        built = self.http.build_request(request.method, url, json=request.json, headers=headers)
        try:
            if stream:
                return _Streamed(self.http, built, basic)
            return self.http.send(built, auth=basic or httpx.USE_CLIENT_DEFAULT)
        except httpx.TimeoutException:
            raise TransientSourceError(f"{self.source}: {request.method} {_path(request.url)} timed out") from None
        except httpx.TransportError as exc:
            raise TransientSourceError(
                f"{self.source}: {request.method} {_path(request.url)} failed: {type(exc).__name__}"
            ) from None

    def _check(self, response: httpx.Response, request: Request, *, stream: bool = False) -> None:
        status = response.status_code
        quota, rules = self.options.quota, self.options.throttle
        if status < 300 and not any(status in rule.statuses for rule in [*rules, *([quota] if quota else [])]):
            return
        body = _text(response, stream)
        where = f"{self.source}: {request.method} {_path(request.url)}"
        if quota is not None and _matches(quota, status, response.headers, body):
            raise QuotaExhaustedError(
                f"{where}: the API quota is spent ({status})",
                "nothing to do: the next run resumes from the committed cursor once the quota resets",
            )
        for rule in rules:
            if _matches(rule, status, response.headers, body):
                wait = _bucket_wait(rule, body)
                if wait is None and "Retry-After" in response.headers:
                    wait = parse_retry_after(response.headers["Retry-After"])
                kind = _PersistentThrottle if rule.stop_after_retries else RateLimitedError
                raise kind(f"{where}: throttled by the API ({status})", retry_after=wait)
        if status < 300:
            return
        hint = response.headers.get("Retry-After")
        retry_after = parse_retry_after(hint) if hint is not None else None
        if status == 429:
            raise RateLimitedError(f"{where}: rate limited (429)", retry_after=retry_after)
        if status >= 500 or status == 408:
            raise TransientSourceError(f"{where}: the API answered {status}", retry_after=retry_after)
        if status == 401:
            raise ConfigError(
                f"{where}: the API refused the credentials (401)",
                f"check `options.auth` of the {self.source} source file and the secrets it references",
            )
        raise SourceError(
            f"{where}: the API answered {status}: {body[:300]}",
            f"check the stream's `path`, `params` and `body` in the {self.source} source file",
        )

    def _post_token(self, url: str, form: dict[str, str], basic: tuple[str, str] | None) -> httpx.Response:
        def attempt() -> httpx.Response:
            try:
                response = self.http.post(url, data=form, auth=basic or httpx.USE_CLIENT_DEFAULT)
            except httpx.HTTPError as exc:
                raise TransientSourceError(f"{self.source}: the token endpoint failed: {type(exc).__name__}") from None
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientSourceError(f"{self.source}: the token endpoint answered {response.status_code}")
            return response

        return call_with_retry(attempt, policy=self.policy)


class _Streamed:
    """`with client._open(..., stream=True) as response`: a streamed response that is closed after use."""

    def __init__(self, http: httpx.Client, request: httpx.Request, basic: httpx.BasicAuth | None) -> None:
        self.response = http.send(request, auth=basic or httpx.USE_CLIENT_DEFAULT, stream=True)

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *_: object) -> None:
        self.response.close()

    @property
    def status_code(self) -> int:
        return self.response.status_code


class _PersistentThrottle(RateLimitedError):
    """A throttle retried like any other; if it outlasts the retries the load stops (`stop_after_retries`)."""


def _matches(rule: LimitAnswer, status: int, headers: httpx.Headers, body: str) -> bool:
    if status not in rule.statuses:
        return False
    if not rule.conditions:
        return True
    if rule.header and headers.get(rule.header) == rule.value:
        return True
    if rule.body_contains and rule.body_contains in body:
        return True
    if rule.body_path:
        found = dig(_json_or_none(body), rule.body_path)
        wanted = {json.dumps(v) for v in rule.body_values} | {str(v) for v in rule.body_values}
        return any(json.dumps(v) in wanted or str(v) in wanted for v in _flat_list(found) if v is not None)
    return False


def _bucket_wait(rule: ThrottleOptions, body: str) -> float | None:
    """Seconds until a leaky bucket holds the request's cost again: (cost - available) / restore rate."""
    if not (rule.cost_path and rule.available_path and rule.restore_rate_path):
        return None
    payload = _json_or_none(body)
    values = [dig(payload, path) for path in (rule.cost_path, rule.available_path, rule.restore_rate_path)]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) or values[2] <= 0:
        return None
    cost, available, rate = (float(v) for v in values)
    return max(0.0, (cost - available) / rate)


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _flat_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for part in value for item in _flat_list(part)]
    return [value]


def _text(response: httpx.Response, stream: bool) -> str:
    try:
        if stream:
            response.read()
        return response.text
    except (httpx.HTTPError, UnicodeDecodeError):
        return ""


def _path(url: str) -> str:
    return urlsplit(url).path or url
