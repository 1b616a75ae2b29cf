"""The app as `switchboard serve` builds it, with console/dist mounted at `/` behind every
route the app already has (so the server's own console route wins once it has one)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from server.app import create_app

DIST = Path(__file__).resolve().parents[2] / "console" / "dist"


def create() -> Starlette:
    app = create_app()
    app.router.routes.append(Mount("/", StaticFiles(directory=DIST, html=True)))
    return app
