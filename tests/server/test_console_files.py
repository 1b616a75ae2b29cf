"""The console served at `/` from a built folder (a tiny one made here), over real HTTP: media
types, the single-page fallback, cache headers, the CSP, and the page shown before a build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from resolvers.deps import Deps
from server.app import create_app
from server.settings import Settings
from tests.conftest import TEST_MASTER_KEY
from tests.live import live_server

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/index-Bx81kQ2a.js">'
    '</script></head><body><div id="root"></div></body></html>'
)
SCRIPT = "console.log('console');"
STYLE = "body { margin: 0 }"


def build(dist: Path) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-Bx81kQ2a.js").write_text(SCRIPT)
    (dist / "assets" / "index-Cq0f3d9L.css").write_text(STYLE)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


@asynccontextmanager
async def console_client(deps: Deps, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(master_key=TEST_MASTER_KEY, console_dist=dist)
    app = create_app(settings, deps=deps, init_database=False)
    async with live_server(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield client


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text("outside the build")
    return build(tmp_path / "dist")


async def test_files_come_with_their_media_types_and_cache_rules(
    db: None, deps: Deps, dist: Path
) -> None:
    async with console_client(deps, dist) as client:
        page = await client.get("/")
        script = await client.get("/assets/index-Bx81kQ2a.js")
        style = await client.get("/assets/index-Cq0f3d9L.css")
        icon = await client.get("/favicon.svg")
    assert (page.status_code, page.text) == (200, INDEX)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert (script.text, script.headers["content-type"]) == (
        SCRIPT,
        "text/javascript; charset=utf-8",
    )
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert style.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.headers["cache-control"] == "no-cache"


async def test_the_csp_allows_only_this_origin_and_its_websocket(
    db: None, deps: Deps, dist: Path
) -> None:
    async with console_client(deps, dist) as client:
        page = await client.get("/")
        host = httpx.URL(str(client.base_url)).netloc.decode()
    directives = (
        part.strip().partition(" ") for part in page.headers["content-security-policy"].split(";")
    )
    policy = {name: value for name, _, value in directives}
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_the_apps_own_routes_get_index_html_and_missing_files_404(
    db: None, deps: Deps, dist: Path
) -> None:
    async with console_client(deps, dist) as client:
        route = await client.get("/keys/QXBpS2V5OjE=/webhooks")
        missing_asset = await client.get("/assets/index-OLDHASH1.js")
        escapes = [
            await client.get(path)
            for path in (
                "/%2e%2e/secret.txt",
                "/assets/%2e%2e/%2e%2e/secret.txt",
                "/..%2fsecret.txt",
            )
        ]
    assert (route.status_code, route.text) == (200, INDEX)
    assert route.headers["cache-control"] == "no-cache"
    assert missing_asset.status_code == 404
    for response in escapes:
        assert "outside the build" not in response.text
        assert response.status_code == 404


async def test_api_paths_stay_the_apis(db: None, deps: Deps, dist: Path) -> None:
    async with console_client(deps, dist) as client:
        graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
        health = await client.get("/healthz")
        unknown = [await client.get(p) for p in ("/graphql/x", "/graphiql/x", "/healthz/x")]
        post = await client.post("/", content=b"{}")
    assert "GraphiQL" in graphiql.text
    assert health.json() == {"status": "ok"}
    assert [r.status_code for r in unknown] == [404, 404, 404]
    assert all(INDEX not in r.text for r in unknown)
    assert post.status_code == 405


async def test_an_unchanged_file_revalidates_with_304(db: None, deps: Deps, dist: Path) -> None:
    async with console_client(deps, dist) as client:
        first = await client.get("/")
        again = await client.get("/", headers={"If-None-Match": first.headers["etag"]})
        head = await client.head("/assets/index-Bx81kQ2a.js")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "no-cache"
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(SCRIPT))


async def test_without_a_build_the_page_says_how_to_make_one(
    db: None, deps: Deps, tmp_path: Path
) -> None:
    async with console_client(deps, tmp_path / "not-built") as client:
        page = await client.get("/")
        route = await client.get("/keys")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "make install" in page.text and "console/dist" in page.text
    assert route.text == page.text


def test_the_build_folder_is_a_setting(tmp_path: Path) -> None:
    env = {"SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_CONSOLE_DIST": str(tmp_path / "b")}
    assert Settings.from_env(env).console_dist == tmp_path / "b"
    default = Settings.from_env({"SWITCHBOARD_DATA_DIR": str(tmp_path)}).console_dist
    assert default.parts[-2:] == ("console", "dist")
