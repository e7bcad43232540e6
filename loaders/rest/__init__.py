"""REST APIs (`type: rest`): one declarative family for every SaaS API of the seed.

A source file names the API's base URL (always configurable), its authentication and its streams;
each stream names a request, where the records are in the answer, how to get the next page and how
to ask for what changed since the last run. The modules:

| module | what it holds |
|---|---|
| `options.py` | the family's keys (pydantic): auth, limits, pagination, incremental, parent, enrich, bulk, fields |
| `client.py` | the httpx client: auth, retries with jitter, `Retry-After`, throttle rules, quotas, timeouts |
| `auth.py` | API keys, bearer, basic, OAuth2 client credentials / refresh token, JWT bearer |
| `paginate.py` | cursor, offset, page number, `Link` header, next URL, OData next link |
| `records.py` | dotted paths, timestamps in the shapes APIs write them, `fields:` mapping, pages to Arrow |
| `stream.py` | a stream: one batch per page, the resumable cursor, exports and Salesforce Bulk API 2.0 |

See `loaders/rest/README.md` for the options and how a load stays exactly once.
"""

from __future__ import annotations

import httpx

from loaders.core.config import SourceConfig
from loaders.core.retry import RetryPolicy
from loaders.rest.client import RestClient
from loaders.rest.options import RestOptions
from loaders.rest.stream import RestStream


class RestSource:
    def __init__(
        self,
        config: SourceConfig,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = config.source
        self.options = config.family_options(RestOptions)
        self.client = RestClient(self.options, config.source, retry=retry, transport=transport)
        self._streams = [RestStream(self.client, stream, self.options) for stream in config.streams]

    def streams(self) -> list[RestStream]:
        return self._streams

    def check(self) -> None:
        """Credentials that fetch a token are tried now: a revoked one fails before any stream starts."""
        if self.client.auth.refreshable:
            self.client.auth.token()


def build(config: SourceConfig, *, retry: RetryPolicy | None = None) -> RestSource:
    return RestSource(config, retry=retry)
