"""Authentication: API keys (header or query), bearer tokens, basic, OAuth2 and JWT bearer.

Token kinds fetch an access token lazily and fetch a new one when the API answers 401 (an expired
token): the client retries that request once with it. A token endpoint that refuses the grant
(a revoked refresh token, a wrong client secret) is a `ConfigError` naming the option to fix.
No secret, and no token, ever goes into an error message.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from lakehouse.core.errors import ConfigError, SourceError
from loaders.rest.options import AuthOptions, JwtOptions

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Token kinds that can be fetched again when the API says the token expired.
REFRESHABLE = ("oauth2_client_credentials", "oauth2_refresh_token", "jwt_bearer")

TokenPost = Callable[[str, dict[str, str], tuple[str, str] | None], httpx.Response]


class Auth:
    def __init__(self, options: AuthOptions, source: str, base_url: str, post: TokenPost) -> None:
        self.options = options
        self.source = source
        self.base_url = base_url
        self._post = post
        self._token: str | None = None
        self.tokens_fetched = 0

    @property
    def refreshable(self) -> bool:
        return self.options.kind in REFRESHABLE

    @property
    def query_param(self) -> str | None:
        """The query parameter that carries the key, to keep it out of stored URLs."""
        return self.options.name if self.options.kind == "api_key" and self.options.location == "query" else None

    def apply(self, headers: dict[str, str], params: dict[str, Any]) -> httpx.BasicAuth | None:
        o = self.options
        if o.kind == "api_key":
            assert o.value is not None
            if o.location == "header":
                headers[o.name] = f"{o.prefix}{o.value}"
            else:
                params[o.name] = o.value
        elif o.kind == "bearer":
            headers["Authorization"] = f"Bearer {o.token}"
        elif o.kind == "basic":
            return httpx.BasicAuth(o.username or "", o.password or "")
        elif self.refreshable:
            headers["Authorization"] = f"Bearer {self.token()}"
        return None

    def token(self) -> str:
        if self._token is None:
            self._token = self._fetch()
        return self._token

    def refresh(self) -> None:
        """Forget the token: the next request fetches a new one."""
        self._token = None

    def _fetch(self) -> str:
        o = self.options
        assert o.token_url is not None
        url = o.token_url if o.token_url.startswith("http") else f"{self.base_url}{o.token_url}"
        form: dict[str, str] = {}
        basic = None
        if o.kind == "jwt_bearer":
            assert o.jwt is not None
            form = {"grant_type": JWT_BEARER_GRANT, "assertion": signed_jwt(o.jwt)}
        elif o.kind == "oauth2_refresh_token":
            form = {"grant_type": "refresh_token", "refresh_token": o.refresh_token or ""}
        else:
            form = {"grant_type": "client_credentials"}
            if o.jwt is not None:
                form |= {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": signed_jwt(o.jwt)}
        if o.kind != "jwt_bearer" and o.client_id:
            if o.client_auth == "basic" and o.client_secret:
                basic = (o.client_id, o.client_secret)
            else:
                form["client_id"] = o.client_id
                if o.client_secret:
                    form["client_secret"] = o.client_secret
        if o.scope:
            form["scope"] = o.scope
        response = self._post(url, form, basic)
        self.tokens_fetched += 1
        return self._access_token(response)

    def _access_token(self, response: httpx.Response) -> str:
        what = {"jwt_bearer": "JWT assertion", "oauth2_refresh_token": "refresh token"}.get(
            self.options.kind, "client credentials"
        )
        if response.status_code in (400, 401, 403):
            code = _oauth_error(response)
            raise ConfigError(
                f"{self.source}: the token endpoint refused the {what} ({response.status_code} {code}): "
                "it was revoked, has expired or is wrong",
                f"issue new credentials for {self.source} and set them where `options.auth` of its source file "
                "references them (the environment variable or the secret), then run the load again",
            )
        if response.status_code >= 300:
            raise SourceError(
                f"{self.source}: the token endpoint answered {response.status_code}",
                f"check `options.auth.token_url` of the {self.source} source file and that the service is up",
            )
        token = _json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise SourceError(
                f"{self.source}: the token endpoint's answer has no access_token",
                "check `options.auth.token_url`: it must be the OAuth2 token endpoint",
            )
        return token


def signed_jwt(options: JwtOptions) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": options.issuer,
        "aud": options.audience,
        "iat": now,
        "exp": now + options.lifetime_s,
        "jti": uuid.uuid4().hex,
    }
    if options.subject:
        claims["sub"] = options.subject
    if options.scope:
        claims["scope"] = options.scope
    headers = {"kid": options.key_id} if options.key_id else None
    try:
        return jwt.encode(claims, options.private_key, algorithm=options.algorithm, headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(
            f"options.auth.jwt.private_key cannot sign a {options.algorithm} JWT ({type(exc).__name__})",
            "set it to the PEM private key of the certificate registered with the API",
        ) from None


def _oauth_error(response: httpx.Response) -> str:
    error = _json(response).get("error")
    return str(error) if isinstance(error, str) else "no error code"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
