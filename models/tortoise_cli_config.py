"""The config the `tortoise` CLI reads for makemigrations (DATABASE_URL or the embedded default)."""

from __future__ import annotations

import os

from models.config import DEFAULT_DATABASE_URL, tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
