"""One normalised origin list for fetch (CORS) and WebSockets; the headers a SPA may read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from server.app import create_app
from server.settings import Settings, SettingsError
from signing.crypto import format_master_key
from tests.conftest import TEST_MASTER_KEY, Seeded
from tests.live import graphql_ws, live_server

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def test_origins_are_normalised_as_browsers_send_them() -> None:
    settings = Settings.from_env(
        {
            "SWITCHBOARD_SECRET_KEY": format_master_key(TEST_MASTER_KEY),
            "SWITCHBOARD_CORS_ORIGINS": "HTTP://Dash.Example:80/, https://x.example:443 ,"
            "http://[::1]:8080/,https://x.example",
        }
    )
    assert settings.cors_origins == (
        "http://dash.example",
        "https://x.example",
        "http://[::1]:8080",
    )


@pytest.mark.parametrize(
    "origin", ["dash.example", "https://dash.example/app", "ftp://dash.example", "https://"]
)
def test_what_is_not_an_origin_is_refused_by_name(origin: str) -> None:
    with pytest.raises(SettingsError, match="SWITCHBOARD_CORS_ORIGINS"):
        Settings(master_key=TEST_MASTER_KEY, cors_origins=(origin,))


async def test_fetch_and_websocket_agree_on_a_trailing_slash_origin(
    db: None, deps: Any, seeded: Seeded
) -> None:
    settings = Settings(master_key=TEST_MASTER_KEY, cors_origins=("HTTPS://Dash.Example:443/",))
    app = create_app(settings, deps=deps, init_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://dash.example", **PREFLIGHT}
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://dash.example"
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        assert "access-control-allow-origin" not in refused.headers
    async with live_server(app) as url:
        async with graphql_ws(url, origin="https://dash.example") as ws:
            assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        with pytest.raises(InvalidStatus):
            async with graphql_ws(url, origin="https://evil.example"):
                pass


async def test_a_cross_origin_page_may_read_request_id_and_retry_after(db: None, deps: Any) -> None:
    settings = Settings(master_key=TEST_MASTER_KEY, cors_origins=("https://dash.example",))
    app = create_app(settings, deps=deps, init_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://dash.example"},
        )
    assert response.headers["x-request-id"]
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"x-request-id", "retry-after"} <= exposed
