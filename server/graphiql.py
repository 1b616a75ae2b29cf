"""The GraphiQL page and its assets, served by the app itself so it works with no CDN."""

from __future__ import annotations

import html
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

GRAPHIQL_DIR = Path(__file__).resolve().parent / "graphiql"
NODE_MODULES = GRAPHIQL_DIR / "node_modules"
STATIC_PREFIX = "/graphiql/static"

# Public name -> (path under node_modules, media type). Versions are pinned in
# server/graphiql/package.json; graphiql's bundle carries graphql itself and takes
# React and ReactDOM from the globals the two React bundles define.
ASSETS: dict[str, tuple[str, str]] = {
    "react.production.min.js": ("react/umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": (
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    "graphql-ws.min.js": ("graphql-ws/umd/graphql-ws.min.js", "text/javascript"),
    "graphiql.min.js": ("graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.min.css": ("graphiql/graphiql.min.css", "text/css"),
}

# Our own start-up script, committed next to package.json rather than installed.
BOOTSTRAP_SCRIPT = "switchboard-graphiql.js"

# Load order matters: React before ReactDOM before GraphiQL, all before the bootstrap.
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphql-ws.min.js",
    "graphiql.min.js",
    BOOTSTRAP_SCRIPT,
)
_STYLESHEETS = ("graphiql.min.css",)

# Names are not versioned, so caches keep a copy for an hour and then revalidate
# with the ETag; an upgrade reaches browsers within that hour.
_CACHE_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "X-Content-Type-Options": "nosniff",
}
_NOT_INSTALLED = "GraphiQL assets are not installed: run make install\n"

DEFAULT_QUERY = """\
# Welcome to Switchboard's GraphiQL.
#
# To authenticate, put your session token in the
# Headers tab below:
#
#   {"Authorization": "Bearer <token>"}
#
# `switchboard demo` prints one, and so does
# `switchboard token --api-key KEY`.
# Subscriptions (over WebSocket) use it too.

query {
  viewer {
    role
    account {
      name
    }
  }
}
"""


def graphiql_html(endpoint: str = "/graphql") -> str:
    """The GraphiQL page for `endpoint`; it loads only same-origin assets, no inline script."""
    stylesheets = "".join(
        f'    <link rel="stylesheet" href="{STATIC_PREFIX}/{name}">\n' for name in _STYLESHEETS
    )
    scripts = "".join(f'    <script src="{STATIC_PREFIX}/{name}"></script>\n' for name in _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Switchboard GraphiQL</title>
{stylesheets}  </head>
  <body>
    <div id="graphiql"
         data-endpoint="{html.escape(endpoint)}"
         data-default-query="{html.escape(DEFAULT_QUERY)}">
      Loading GraphiQL&hellip; If this stays, JavaScript is off or the GraphiQL assets
      are not installed (run make install).
    </div>
{scripts}  </body>
</html>
"""


def graphiql_routes(node_modules: Path = NODE_MODULES) -> list[BaseRoute]:
    """`GET /graphiql/static/{name}`: the whitelisted assets, 404 for any other name."""

    def serve_asset(request: Request) -> Response:
        # A plain function: Starlette runs it in a worker thread, so the stat never
        # blocks the event loop.
        name = request.path_params["name"]
        if name == BOOTSTRAP_SCRIPT:
            path, media_type = GRAPHIQL_DIR / BOOTSTRAP_SCRIPT, "text/javascript"
        elif name in ASSETS:
            relative_path, media_type = ASSETS[name]
            path = node_modules / relative_path
        else:
            return PlainTextResponse("Not Found\n", status_code=404)
        try:
            stat_result = os.stat(path)
        except FileNotFoundError:
            return PlainTextResponse(_NOT_INSTALLED, status_code=503)
        response = FileResponse(
            path, media_type=media_type, headers=_CACHE_HEADERS, stat_result=stat_result
        )
        etag = response.headers["etag"]
        if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
            return Response(status_code=304, headers={**_CACHE_HEADERS, "ETag": etag})
        return response

    return [
        Route(f"{STATIC_PREFIX}/{{name}}", serve_asset, methods=["GET"], name="graphiql_static")
    ]
