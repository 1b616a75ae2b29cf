"""The self-hosted GraphiQL page: same-origin assets only, served from the whitelist."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from server.graphiql import ASSETS, BOOTSTRAP_SCRIPT, GRAPHIQL_DIR, graphiql_html, graphiql_routes

SET_UP_HINT = "GraphiQL assets missing: run `npm ci --prefix server/graphiql --no-audit --no-fund`"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
# Where a page would fetch code or fonts from if it were not self-hosted.
CDN_HOSTS = (
    "unpkg.com",
    "jsdelivr.net",
    "cdnjs.cloudflare.com",
    "esm.sh",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
)


class PageAssets(HTMLParser):
    """Collects what a browser would load from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.inline_scripts: list[str] = []
        self.urls: list[str] = []
        self.title = ""
        self.root_attrs: dict[str, str | None] = {}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.urls += [
            value or "" for key, value in attrs if key in ("href", "src", "srcset", "action")
        ]
        if tag == "script":
            if attributes.get("src"):
                self.scripts.append(attributes["src"] or "")
            else:
                self._in = "script"
        elif tag == "link" and "stylesheet" in (attributes.get("rel") or "").split():
            self.stylesheets.append(attributes.get("href") or "")
        elif tag == "title":
            self._in = "title"
        elif attributes.get("id") == "graphiql":
            self.root_attrs = attributes

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "script" and data.strip():
            self.inline_scripts.append(data)


def parse_page(text: str) -> PageAssets:
    parser = PageAssets()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture
def graphiql_app(app: Starlette) -> Starlette:
    """The real application: the page and every asset it loads come from it."""
    return app


async def load_page(client: httpx.AsyncClient) -> PageAssets:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return parse_page(response.text)


async def test_page_loads_only_same_origin_assets(client: httpx.AsyncClient) -> None:
    page = await load_page(client)

    assert page.title == "Switchboard GraphiQL"
    assert page.inline_scripts == [], "bootstrap code belongs in a served file (CSP)"
    assert page.scripts[-1] == f"/graphiql/static/{BOOTSTRAP_SCRIPT}"
    assert page.stylesheets == ["/graphiql/static/graphiql.min.css"]
    for url in page.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and not url.startswith("//"), url
        assert url.startswith("/graphiql/static/"), url


async def test_page_scripts_load_dependencies_first(client: httpx.AsyncClient) -> None:
    names = [url.rsplit("/", 1)[1] for url in (await load_page(client)).scripts]

    # graphiql's browser bundle reads the React and ReactDOM globals when it loads.
    assert names.index("react.production.min.js") < names.index("react-dom.production.min.js")
    assert names.index("react-dom.production.min.js") < names.index("graphiql.min.js")
    assert names.index("graphql-ws.min.js") < names.index(BOOTSTRAP_SCRIPT)


async def test_every_page_asset_is_served(client: httpx.AsyncClient) -> None:
    page = await load_page(client)

    for url in page.scripts + page.stylesheets:
        response = await client.get(url)
        assert response.status_code == 200, f"{url}: {response.text.strip()} ({SET_UP_HINT})"
        assert len(response.content) > 1000, url
        media_type = MEDIA_TYPES[Path(url).suffix]
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8", url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "max-age=" in response.headers["cache-control"]


async def test_every_whitelisted_asset_is_on_the_page(client: httpx.AsyncClient) -> None:
    page = await load_page(client)

    served = {url.rsplit("/", 1)[1] for url in page.scripts + page.stylesheets}
    assert served == {*ASSETS, BOOTSTRAP_SCRIPT}


async def test_no_asset_loads_from_a_cdn(client: httpx.AsyncClient) -> None:
    page_response = await client.get("/graphql")
    assert "http://" not in page_response.text
    assert "https://" not in page_response.text

    for name in [*ASSETS, BOOTSTRAP_SCRIPT]:
        response = await client.get(f"/graphiql/static/{name}")
        assert response.status_code == 200, f"{name} ({SET_UP_HINT})"
        text = response.text
        for host in CDN_HOSTS:
            assert host not in text, f"{name} mentions {host}"
        if name.endswith(".css"):
            assert "@import" not in text
            # Fonts and images are inlined as data: URLs.
            assert "url(http" not in text and "url(//" not in text
            assert "url('http" not in text and 'url("http' not in text


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/static/nope.js",
        "/graphiql/static/package.json",
        "/graphiql/static/package-lock.json",
        "/graphiql/static/graphiql.min.js.map",
        "/graphiql/static/react.development.js",
        "/graphiql/static/..%2Fgraphiql.py",
        "/graphiql/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/graphiql/static/react%2Fumd%2Freact.production.min.js",
        "/graphiql/static/node_modules%2Fgraphiql%2Fpackage.json",
        "/graphiql/static/",
    ],
)
async def test_anything_else_is_not_found(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_unchanged_asset_revalidates_with_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/graphiql/static/graphiql.min.css")
    assert first.status_code == 200, SET_UP_HINT

    again = await client.get(
        "/graphiql/static/graphiql.min.css", headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.content == b""


async def test_missing_install_answers_503_with_a_hint(tmp_path: Path) -> None:
    app = Starlette(routes=graphiql_routes(node_modules=tmp_path / "node_modules"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        missing = await client.get("/graphiql/static/graphiql.min.js")
        bootstrap = await client.get(f"/graphiql/static/{BOOTSTRAP_SCRIPT}")

    assert missing.status_code == 503
    assert missing.headers["content-type"].startswith("text/plain")
    assert missing.text.strip() == "GraphiQL assets are not installed: run make install"
    assert bootstrap.status_code == 200


def test_endpoint_and_default_query_are_escaped_attributes() -> None:
    page = parse_page(graphiql_html('/api/graphql?x="><script>alert(1)</script>'))

    assert page.root_attrs["data-endpoint"] == '/api/graphql?x="><script>alert(1)</script>'
    assert page.inline_scripts == []
    default_query = page.root_attrs["data-default-query"] or ""
    assert "Authorization" in default_query
    assert "query {\n  viewer {\n    role\n    account {\n      name" in default_query


# The bootstrap run under Node with stand-ins for the browser globals: what it hands to
# graphql-ws and GraphiQL is what a browser would get.
BOOTSTRAP_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const calls = { clients: [], fetchers: [], rendered: null };
const root = {
  style: {},
  getAttribute: (name) => ({ "data-endpoint": "/graphql", "data-default-query": "# hi" })[name],
};
const sandbox = {
  URL,
  window: { location: { href: process.argv[3] } },
  document: { body: { style: {} }, getElementById: () => root },
  graphqlWs: {
    createClient(options) {
      const client = { options, disposed: false, dispose() { this.disposed = true; } };
      calls.clients.push(client);
      return client;
    },
  },
  GraphiQL: Object.assign(function GraphiQL() {}, {
    createFetcher(options) {
      calls.fetchers.push(options);
      return (params, opts) => ({ params, opts });
    },
  }),
  React: { createElement: (type, props) => ({ type, props }) },
  ReactDOM: { createRoot: () => ({ render: (element) => { calls.rendered = element; } }) },
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), sandbox);
const props = calls.rendered.props;
props.fetcher({ query: "{ a }" }, { headers: { authorization: "Bearer one" } });
props.fetcher({ query: "{ b }" }, { headers: { authorization: "Bearer one" } });
props.fetcher({ query: "{ c }" }, { headers: { Authorization: "Bearer two" } });
props.fetcher({ query: "{ d }" }, { headers: {} });
console.log(JSON.stringify({
  props: { ...props, fetcher: typeof props.fetcher },
  clients: calls.clients.map((c) => ({
    url: c.options.url,
    params: c.options.connectionParams(),
    disposed: c.disposed,
    retriesForbidden: c.options.shouldRetry({ code: 4403, reason: "Forbidden" }),
    retriesDrop: c.options.shouldRetry({ code: 1006, reason: "" }),
  })),
  fetchers: calls.fetchers.map((f) => ({ url: f.url, subscriptionUrl: f.subscriptionUrl })),
}));
"""


@pytest.mark.parametrize(
    ("page_url", "http_url", "ws_url"),
    [
        (
            "http://127.0.0.1:8000/graphql",
            "http://127.0.0.1:8000/graphql",
            "ws://127.0.0.1:8000/graphql",
        ),
        ("https://sb.example/graphql", "https://sb.example/graphql", "wss://sb.example/graphql"),
    ],
)
def test_bootstrap_sends_the_headers_authorization_in_connection_params(
    tmp_path: Path, page_url: str, http_url: str, ws_url: str
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    harness = tmp_path / "harness.js"
    harness.write_text(BOOTSTRAP_HARNESS)

    result = subprocess.run(
        [node, str(harness), str(GRAPHIQL_DIR / BOOTSTRAP_SCRIPT), page_url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    assert seen["props"]["isHeadersEditorEnabled"] is True
    assert seen["props"]["defaultHeaders"] == "{}"
    assert seen["props"]["defaultQuery"] == "# hi"
    assert seen["fetchers"] == [{"url": http_url, "subscriptionUrl": ws_url}] * 3
    # One client per Authorization value; a changed header closes the previous socket.
    assert seen["clients"] == [
        {
            "url": ws_url,
            "params": {"Authorization": "Bearer one"},
            "disposed": True,
            "retriesForbidden": False,
            "retriesDrop": True,
        },
        {
            "url": ws_url,
            "params": {"Authorization": "Bearer two"},
            "disposed": True,
            "retriesForbidden": False,
            "retriesDrop": True,
        },
        {
            "url": ws_url,
            "params": {},
            "disposed": False,
            "retriesForbidden": False,
            "retriesDrop": True,
        },
    ]
