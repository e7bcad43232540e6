"""Pagination: from one page's request and answer, the request of the next page (or None).

The next request is stored in the stream's cursor, so a load killed between pages resumes with the
page it had not committed. Kinds are described in `options.PaginatorOptions`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx

from loaders.rest.client import Request
from loaders.rest.options import PaginatorOptions
from loaders.rest.records import dig, put

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def next_request(
    paginator: PaginatorOptions,
    request: Request,
    response: httpx.Response,
    body: Any,
    records: list[Any],
    page_size: int,
) -> Request | None:
    kind = paginator.kind
    if kind == "none":
        return None
    if paginator.stop_path and dig(body, paginator.stop_path) is False:
        return None
    if kind == "cursor":
        token = _token(paginator, body, records)
        return _with(request, paginator, token) if token not in (None, "") else None
    if kind in ("offset", "page_number"):
        if not records or (paginator.stop_path is None and len(records) < page_size):
            return None
        current = _current(request, paginator)
        step = len(records) if kind == "offset" else 1
        return _with(request, paginator, current + step)
    if kind == "link_header":
        match = _LINK_NEXT.search(response.headers.get("Link", ""))
        return Request(request.method, match.group(1)) if match else None
    if kind == "next_url":
        assert paginator.next_path is not None
        return _follow(request, dig(body, paginator.next_path))
    # odata: v4 `@odata.nextLink`, v2 `d.__next` (both carry `$skiptoken`)
    if isinstance(body, dict):
        link = body.get("@odata.nextLink") or body.get("odata.nextLink") or dig(body, "d.__next")
        return _follow(request, link)
    return None


def first_request(paginator: PaginatorOptions, request: Request, page_size: int) -> Request:
    """The first page's request: offset and page-number kinds start at `start`, with the page size."""
    if paginator.kind in ("offset", "page_number"):
        request = _with(request, paginator, paginator.start)
        if paginator.limit_param:
            request = _set(request, paginator.limit_param, page_size, paginator.location)
    return request


def _token(paginator: PaginatorOptions, body: Any, records: list[Any]) -> Any:
    if paginator.last_record:
        return dig(records[-1], paginator.last_record) if records else None
    assert paginator.token_path is not None
    return dig(body, paginator.token_path)


def _current(request: Request, paginator: PaginatorOptions) -> int:
    assert paginator.param is not None
    holder = request.json if paginator.location == "body" else request.params
    value = dig(holder, paginator.param) if isinstance(holder, dict) else None
    return int(value) if value is not None else paginator.start


def _with(request: Request, paginator: PaginatorOptions, value: Any) -> Request:
    assert paginator.param is not None
    return _set(request, paginator.param, value, paginator.location)


def _set(request: Request, name: str, value: Any, location: str) -> Request:
    if location == "body":
        body = copy.deepcopy(request.json) if isinstance(request.json, dict) else {}
        put(body, name, value)
        return Request(request.method, request.url, dict(request.params), body)
    return Request(request.method, request.url, {**request.params, name: value}, request.json)


def _follow(request: Request, link: Any) -> Request | None:
    """A next link replaces the URL and its query; the method and body stay (Salesforce, OData: GET)."""
    if not isinstance(link, str) or not link:
        return None
    return Request(request.method, link, {}, request.json if request.method == "POST" else None)
