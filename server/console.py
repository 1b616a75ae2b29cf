"""The console at `/`: the built single-page app's files, with index.html for its own routes."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

# Paths the API owns: an unknown one there is a 404, never the console's page.
API_SEGMENTS = frozenset({"graphql", "graphiql", "healthz", "readyz"})
# Vite writes content-hashed names under assets/: a changed file gets a new name, so a
# browser may keep these forever. Everything else revalidates (ETag) on every use.
HASHED_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Set here so they never depend on the host's mime.types (some lack .mjs or .webmanifest).
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Switchboard console is not built</title></head>
  <body>
    <h1>The console is not built</h1>
    <p>This server serves the API Settings console from <code>console/dist</code>, which does
    not exist yet. Build it with <code>make install</code> (or <code>npm ci && npm run build</code>
    in <code>console/</code>), or point <code>SWITCHBOARD_CONSOLE_DIST</code> at a build.</p>
    <p>The API and GraphiQL are at <a href="/graphql">/graphql</a>.</p>
  </body>
</html>
"""


def content_security_policy(host: str | None) -> str:
    """Only this origin: scripts, styles, fonts and connections, plus its WebSocket for
    graphql-ws (spelled out, as older browsers do not count ws: as 'self')."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'{sockets}; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def console_routes(dist: Path) -> list[BaseRoute]:
    """`GET /` and every path no other route took: a file of `dist`, else index.html."""
    root = dist.resolve()

    def serve(request: Request) -> Response:
        # A plain function: Starlette runs it in a worker thread, so file checks never block.
        path = request.url.path
        if path.split("/", 2)[1] in API_SEGMENTS:
            return PlainTextResponse("Not Found\n", status_code=404)
        csp = content_security_policy(request.headers.get("host"))
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(
                NOT_BUILT_PAGE,
                headers={"Cache-Control": REVALIDATE, "Content-Security-Policy": csp},
            )
        found = _file_under(root, request.path_params.get("path", ""))
        if found is None:
            if "." in path.rsplit("/", 1)[-1]:
                # A missing file (an old hashed asset, a typo): index.html would parse as junk.
                return PlainTextResponse("Not Found\n", status_code=404)
            found = index
        return _file(request, found, root, csp)

    return [
        Route("/", serve, methods=["GET", "HEAD"], name="console"),
        Route("/{path:path}", serve, methods=["GET", "HEAD"], name="console_path"),
    ]


def _file_under(root: Path, relative: str) -> Path | None:
    """The regular file `relative` names inside `root`, never one outside it."""
    if not relative or "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _file(request: Request, path: Path, root: Path, csp: str) -> Response:
    relative = path.relative_to(root)
    hashed = len(relative.parts) > 1 and relative.parts[0] == HASHED_DIR
    media_type = MEDIA_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    headers = {
        "Cache-Control": IMMUTABLE if hashed else REVALIDATE,
        "Content-Security-Policy": csp,
    }
    response = FileResponse(path, media_type=media_type, headers=headers, stat_result=os.stat(path))
    etag = response.headers["etag"]
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return response
