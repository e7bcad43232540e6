"""The REST family's pieces that need no server: paging decisions, timestamps, templates, bad options."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from lakehouse.core.errors import ConfigError
from loaders.core.config import validated_options
from loaders.rest.client import Request
from loaders.rest.options import PaginatorOptions, RestOptions, RestStreamOptions
from loaders.rest.paginate import first_request, next_request
from loaders.rest.records import dig, render, reshape, to_instant


def _next(kind: dict, body: object, records: list, headers: dict | None = None, page_size: int = 2) -> Request | None:
    paginator = PaginatorOptions.model_validate(kind)
    request = first_request(paginator, Request("GET", "/items", {"q": "x"}), page_size)
    response = httpx.Response(200, headers=headers or {}, json=body)
    return next_request(paginator, request, response, body, records, page_size)


def test_odata_follows_v4_next_links_and_v2_next() -> None:
    v4 = {"value": [{"id": 1}], "@odata.nextLink": "https://sap.example/A_Product?$skiptoken=50"}
    assert _next({"kind": "odata"}, v4, v4["value"]).url.endswith("$skiptoken=50")
    v2 = {"d": {"results": [{"id": 1}], "__next": "https://sap.example/A_Product?$skiptoken=7"}}
    assert _next({"kind": "odata"}, v2, [{"id": 1}]).url.endswith("$skiptoken=7")
    assert _next({"kind": "odata"}, {"value": []}, []) is None


def test_cursor_offset_page_number_and_link_header() -> None:
    stripe = {"kind": "cursor", "last_record": "id", "param": "starting_after", "stop_path": "has_more"}
    assert _next(stripe, {"has_more": True}, [{"id": "a"}, {"id": "b"}]).params["starting_after"] == "b"
    assert _next(stripe, {"has_more": False}, [{"id": "a"}]) is None
    offset = {"kind": "offset", "param": "offset", "limit_param": "limit"}
    assert _next(offset, {}, [{}, {}]).params == {"q": "x", "offset": 2, "limit": 2}
    assert _next(offset, {}, [{}]) is None  # a short page is the last
    pages = {"kind": "page_number", "param": "page", "start": 1}
    assert _next(pages, {}, [{}, {}]).params["page"] == 2
    link = '<https://shop.example/orders.json?page_info=abc>; rel="next", <https://x>; rel="previous"'
    assert _next({"kind": "link_header"}, {}, [{}], {"Link": link}).url.endswith("page_info=abc")


def test_timestamps_in_every_shape_the_apis_write() -> None:
    moment = datetime(2026, 1, 2, 14, 59, 31, tzinfo=UTC)
    for value in (
        1767365971,
        1767365971000,
        "2026-01-02T14:59:31Z",
        "2026-01-02T14:59:31.000+0000",
        "2026-01-02T09:59:31-05:00",
        "2026-01-02 14:59:31.000000",
        "/Date(1767365971000+0000)/",
    ):
        assert to_instant(value) == moment, value
    assert to_instant("2026-01-02") == datetime(2026, 1, 2, tzinfo=UTC)
    assert to_instant("yesterday") is None


def test_templates_and_paths() -> None:
    names = {"since": 1700000000, "page_size": 50, "vars.account": "act_1"}
    assert render({"limit": "{page_size}", "path": "/{vars.account}/x", "f": '[{"v":{since}}]'}, names) == {
        "limit": 50,
        "path": "/act_1/x",
        "f": '[{"v":1700000000}]',
    }
    assert dig({"data": {"edges": [{"node": {"id": 1}}, {"node": {"id": 2}}]}}, "data.edges.node") == [
        {"id": 1},
        {"id": 2},
    ]


def test_bad_options_name_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"options\.auth.*needs refresh_token"):
        validated_options(
            RestOptions,
            {"base_url": "https://x", "auth": {"kind": "oauth2_refresh_token", "token_url": "/t", "client_id": "c"}},
            None,
            "options",
        )
    with pytest.raises(ConfigError, match="base_url"):
        validated_options(RestOptions, {"base_url": "ftp://x"}, None, "options")


def test_fields_build_the_landed_record_from_a_graphql_node() -> None:
    options = RestStreamOptions.model_validate(
        {
            "path": "/graphql.json",
            "fields": {
                "id": {"path": "legacyResourceId", "type": "integer"},
                "status": {"path": "status", "values": {"ACTIVE": "active"}},
                "tags": {"path": "tags", "join": ", "},
                "variants": {
                    "path": "variants.edges.node",
                    "fields": {
                        "sku": "sku",
                        "grams": {
                            "path": "weight",
                            "times": {"path": "weightUnit", "values": {"KILOGRAMS": 1000, "POUNDS": 453.59237}},
                            "type": "integer",
                        },
                    },
                },
                "missing": "publishedAt",
            },
        }
    )
    node = {
        "legacyResourceId": "9007199254740993",  # beyond a float's exact integers
        "status": "ACTIVE",
        "tags": ["apparel", "winter"],
        "variants": {"edges": [{"node": {"sku": "A-1", "weight": 0.45, "weightUnit": "KILOGRAMS"}}]},
    }
    assert reshape(node, options.fields) == {
        "id": 9007199254740993,
        "status": "active",
        "tags": "apparel, winter",
        "variants": [{"sku": "A-1", "grams": 450}],
        "missing": None,
    }
    with pytest.raises(ValueError, match=r"'id'.*not an integer"):
        reshape({**node, "legacyResourceId": "gid://shopify/Product/1"}, options.fields)


def test_limit_rules_say_how_to_tell_them_apart() -> None:
    base = {"base_url": "https://x"}
    with pytest.raises(ConfigError, match="tell a spent quota from a passing throttle"):
        validated_options(RestOptions, {**base, "quota": {"statuses": [429]}}, None, "options")
    with pytest.raises(ConfigError, match="`body_path` and `body_values` go together"):
        validated_options(RestOptions, {**base, "throttle": [{"body_path": "error.code"}]}, None, "options")
    bucket = {"statuses": [200], "body_path": "errors.extensions.code", "body_values": ["THROTTLED"]}
    with pytest.raises(ConfigError, match="go together"):
        validated_options(RestOptions, {**base, "throttle": [{**bucket, "cost_path": "a"}]}, None, "options")
