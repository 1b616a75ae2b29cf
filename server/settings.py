"""Settings from the environment, with defaults that run the embedded mode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from models.config import DEFAULT_DATABASE_URL, is_sqlite
from signing.crypto import format_master_key, generate_master_key, parse_master_key

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def _flag(env: dict[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in _TRUE


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None


def _positive(env: dict[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number of seconds")
    return value


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    redis_prefix: str = "switchboard:"
    master_key: bytes = field(default=b"", repr=False)
    allow_private_webhooks: bool = False
    cors_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    dev: bool = False
    introspection: bool = True
    session_ttl_seconds: int = 3600
    max_api_keys: int = 10
    webhook_issuer: str = "Vonage"
    # How often each replica records secrets that expired (audit + live event); 0 disables.
    expiry_sweep_seconds: int = 30
    webhook_connect_timeout_seconds: float = 3.0
    webhook_total_timeout_seconds: float = 15.0
    delivery_attempts: int = 3
    delivery_backoff_seconds: float = 1.0
    max_deliveries_in_flight: int = 5
    # At shutdown, running deliveries get this long to finish before they are interrupted.
    delivery_shutdown_grace_seconds: float = 5.0
    # A running delivery's lease (renewed every third of it by its process), and how often
    # each replica ends deliveries whose lease lapsed (their process died); 0 disables.
    delivery_lease_seconds: float = 15.0
    delivery_sweep_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read every setting; generate the embedded key once into the data folder if needed."""
        env = dict(os.environ if env is None else env)
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        data_dir = Path(env.get("SWITCHBOARD_DATA_DIR") or "data")
        dev = _flag(env, "SWITCHBOARD_DEV")
        return cls(
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=env.get("SWITCHBOARD_REDIS_PREFIX") or "switchboard:",
            master_key=_master_key(env, database_url, data_dir),
            allow_private_webhooks=_flag(env, "SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS") or dev,
            cors_origins=tuple(
                o.strip() for o in env.get("SWITCHBOARD_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000),
            data_dir=data_dir,
            dev=dev,
            introspection=_flag(env, "SWITCHBOARD_INTROSPECTION", default=True),
            session_ttl_seconds=_int(env, "SWITCHBOARD_SESSION_TTL", 3600),
            max_api_keys=_int(env, "SWITCHBOARD_MAX_API_KEYS", 10),
            webhook_issuer=env.get("SWITCHBOARD_WEBHOOK_ISSUER") or "Vonage",
            expiry_sweep_seconds=_int(env, "SWITCHBOARD_EXPIRY_SWEEP_SECONDS", 30),
            webhook_connect_timeout_seconds=_float(env, "SWITCHBOARD_WEBHOOK_CONNECT_TIMEOUT", 3.0),
            webhook_total_timeout_seconds=_float(env, "SWITCHBOARD_WEBHOOK_TIMEOUT", 15.0),
            delivery_attempts=_int(env, "SWITCHBOARD_DELIVERY_ATTEMPTS", 3),
            delivery_backoff_seconds=_float(env, "SWITCHBOARD_DELIVERY_BACKOFF", 1.0),
            max_deliveries_in_flight=_int(env, "SWITCHBOARD_MAX_DELIVERIES_IN_FLIGHT", 5),
            delivery_shutdown_grace_seconds=_float(env, "SWITCHBOARD_DELIVERY_SHUTDOWN_GRACE", 5.0),
            delivery_lease_seconds=_positive(env, "SWITCHBOARD_DELIVERY_LEASE", 15.0),
            delivery_sweep_seconds=_float(env, "SWITCHBOARD_DELIVERY_SWEEP_SECONDS", 5.0),
        )


def _master_key(env: dict[str, str], database_url: str, data_dir: Path) -> bytes:
    raw = env.get("SWITCHBOARD_SECRET_KEY")
    if raw:
        try:
            return parse_master_key(raw)
        except ValueError as exc:
            raise SettingsError(f"SWITCHBOARD_SECRET_KEY is malformed: {exc}") from None
    if not is_sqlite(database_url):
        raise SettingsError("SWITCHBOARD_SECRET_KEY is required when DATABASE_URL is not SQLite")
    return _embedded_key(data_dir / "secret.key")


def _embedded_key(path: Path) -> bytes:
    if path.exists():
        return parse_master_key(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL so two processes starting together never write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_master_key(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(format_master_key(generate_master_key()) + "\n")
    return parse_master_key(path.read_text().strip())
