"""Settings from the environment, with defaults that run the embedded mode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from models.config import DEFAULT_DATABASE_URL, is_sqlite
from resolvers.delivery_retention import DeliveryRetention
from server.persisted import TrustedDocumentsOnly
from signing.crypto import (
    format_master_key,
    generate_master_key,
    parse_key_ring,
    parse_master_key,
)
from signing.ports import DEFAULT_ALLOWED_PORTS, DEFAULT_DENIED_PORTS, PortRule, parse_ports

_TRUE = {"1", "true", "yes", "on"}
# The console's build output, beside the server's own folders.
CONSOLE_DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
MANIFEST_NAME = "persisted-documents.json"


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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalised_origin(value: str) -> str:
    """An allowed origin as browsers send `Origin`: lowercase scheme and host, no default
    port, no trailing slash. The CORS middleware compares it as text and the WebSocket check
    compares it normalised, so both must get this same form (a trailing slash once let a
    WebSocket in that fetch refused)."""
    value = value.strip()
    if value == "*":
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        port, parts = None, urlsplit("")
    scheme = parts.scheme.lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path not in ("", "/")
        or (parts.query or parts.fragment or parts.username)
    ):
        raise SettingsError(
            f"SWITCHBOARD_CORS_ORIGINS: {value[:100]!r} is not an origin "
            "(http[s]://host[:port], nothing after it)"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    redis_prefix: str = "switchboard:"
    master_key: bytes = field(default=b"", repr=False)
    # Older master keys, still read while `switchboard rekey` moves data to `master_key`.
    old_master_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # Session signing keys (the first signs), rotatable on their own; empty means keys
    # derived from the master keys.
    session_keys: tuple[bytes, ...] = field(default=(), repr=False)
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
    # Prometheus metrics are counted unless switched off; /metrics is served only on the
    # operator's port, never on the public one.
    metrics: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    # Operation names worth their own label; any other operation is labelled by its root field.
    metrics_operations: tuple[str, ...] = ()
    metrics_pool_interval_seconds: float = 5.0
    # Traces go out only when the standard OTEL_* variables ask for them.
    tracing: bool = False
    # How often an open WebSocket's credentials are checked again (revoked → closed, 4401).
    ws_recheck_seconds: float = 10.0
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    # forwarded_allow_ips: addresses, networks or "*"); None: forwarded headers are ignored.
    trusted_proxies: str | None = None
    # The manifest of persisted documents ({id: text}); None: documents by ID are refused.
    persisted_documents: Path | None = None
    trusted_documents_only: TrustedDocumentsOnly = TrustedDocumentsOnly.OFF
    # The console's build, served at `/`; a page saying how to build it when missing.
    console_dist: Path = CONSOLE_DIST
    # The ports test deliveries may reach (see signing/ports.py for the deny list's why).
    webhook_ports: PortRule = field(default_factory=PortRule.parse)
    # Test deliveries kept: the newest `per_key` finished ones per key, none past the age.
    delivery_retention: DeliveryRetention = field(default_factory=DeliveryRetention)

    # A running delivery's lease (renewed every third of it by its process), and how often
    # each replica ends deliveries whose lease lapsed (their process died); 0 disables.
    delivery_lease_seconds: float = 15.0
    delivery_sweep_seconds: float = 5.0

    def __post_init__(self) -> None:
        # One normalised list, for the CORS middleware and the WebSocket origin check alike.
        origins = tuple(dict.fromkeys(normalised_origin(o) for o in self.cors_origins))
        object.__setattr__(self, "cors_origins", origins)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read every setting; generate the embedded key once into the data folder if needed."""
        env = dict(os.environ if env is None else env)
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        data_dir = Path(env.get("SWITCHBOARD_DATA_DIR") or "data")
        dev = _flag(env, "SWITCHBOARD_DEV")
        master_key, old_master_keys = _master_keys(env, database_url, data_dir)
        session_keys = (
            tuple(_key_ring(env, "SWITCHBOARD_SESSION_KEYS"))
            if env.get("SWITCHBOARD_SESSION_KEYS")
            else ()
        )
        return cls(
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=env.get("SWITCHBOARD_REDIS_PREFIX") or "switchboard:",
            master_key=master_key,
            old_master_keys=old_master_keys,
            session_keys=session_keys,
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
            ws_recheck_seconds=_positive(env, "SWITCHBOARD_WS_RECHECK_SECONDS", 10.0),
            trusted_proxies=(env.get("SWITCHBOARD_TRUSTED_PROXIES") or "").strip() or None,
            persisted_documents=_manifest(env),
            trusted_documents_only=_trusted_only(env),
            console_dist=Path(env.get("SWITCHBOARD_CONSOLE_DIST") or CONSOLE_DIST),
            webhook_ports=_port_rule(env),
            delivery_retention=DeliveryRetention(
                per_key=_int(env, "SWITCHBOARD_DELIVERY_RETENTION_COUNT", 100),
                max_age_days=_int(env, "SWITCHBOARD_DELIVERY_RETENTION_DAYS", 30),
                sweep_seconds=_int(env, "SWITCHBOARD_DELIVERY_RETENTION_SWEEP_SECONDS", 3600),
            ),
            metrics=_flag(env, "SWITCHBOARD_METRICS", default=True),
            metrics_host=env.get("SWITCHBOARD_METRICS_HOST") or "127.0.0.1",
            metrics_port=_int(env, "SWITCHBOARD_METRICS_PORT", 0) or None,
            metrics_operations=_names(env.get("SWITCHBOARD_METRICS_OPERATIONS", "")),
            metrics_pool_interval_seconds=_float(env, "SWITCHBOARD_METRICS_POOL_INTERVAL", 5.0),
            tracing=_tracing_requested(env),
            delivery_lease_seconds=_positive(env, "SWITCHBOARD_DELIVERY_LEASE", 15.0),
            delivery_sweep_seconds=_float(env, "SWITCHBOARD_DELIVERY_SWEEP_SECONDS", 5.0),
        )


def _names(raw: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _tracing_requested(env: dict[str, str]) -> bool:
    """The OpenTelemetry SDK's own switches: an exporter named (not "none"), or an OTLP
    endpoint given; OTEL_SDK_DISABLED wins over both."""
    if _flag(env, "OTEL_SDK_DISABLED"):
        return False
    exporter = (env.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _manifest(env: dict[str, str]) -> Path | None:
    """SWITCHBOARD_PERSISTED_DOCUMENTS (which must exist), else the built console's manifest
    if there is one."""
    raw = env.get("SWITCHBOARD_PERSISTED_DOCUMENTS")
    if raw:
        path = Path(raw)
        if not path.is_file():
            raise SettingsError(f"SWITCHBOARD_PERSISTED_DOCUMENTS: no file at {path}")
        return path
    default = CONSOLE_DIST / MANIFEST_NAME
    return default if default.is_file() else None


def _trusted_only(env: dict[str, str]) -> TrustedDocumentsOnly:
    raw = (env.get("SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY") or "off").strip().lower()
    try:
        return TrustedDocumentsOnly(raw)
    except ValueError:
        choices = ", ".join(mode.value for mode in TrustedDocumentsOnly)
        raise SettingsError(
            f"SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY must be one of {choices}"
        ) from None


def _port_rule(env: dict[str, str]) -> PortRule:
    lists: list[frozenset[int]] = []
    for name, default in (
        ("SWITCHBOARD_WEBHOOK_PORTS", DEFAULT_ALLOWED_PORTS),
        ("SWITCHBOARD_WEBHOOK_DENIED_PORTS", DEFAULT_DENIED_PORTS),
    ):
        try:
            lists.append(parse_ports(env.get(name, default)))
        except ValueError as exc:
            raise SettingsError(f"{name} is malformed: {exc}") from None
    return PortRule(allowed=lists[0], denied=lists[1])


def _master_keys(
    env: dict[str, str], database_url: str, data_dir: Path
) -> tuple[bytes, tuple[bytes, ...]]:
    """The active master key and the older ones still read (SWITCHBOARD_SECRET_KEYS, or
    SWITCHBOARD_SECRET_KEY as a ring of one, or the embedded key file for SQLite)."""
    ring, single = env.get("SWITCHBOARD_SECRET_KEYS"), env.get("SWITCHBOARD_SECRET_KEY")
    if ring and single:
        raise SettingsError(
            "Set SWITCHBOARD_SECRET_KEYS or SWITCHBOARD_SECRET_KEY, not both: "
            "put the single key first in SWITCHBOARD_SECRET_KEYS"
        )
    if ring:
        keys = _key_ring(env, "SWITCHBOARD_SECRET_KEYS")
        return keys[0], tuple(keys[1:])
    if single:
        try:
            return parse_master_key(single), ()
        except ValueError as exc:
            raise SettingsError(f"SWITCHBOARD_SECRET_KEY is malformed: {exc}") from None
    if not is_sqlite(database_url):
        raise SettingsError("SWITCHBOARD_SECRET_KEY is required when DATABASE_URL is not SQLite")
    return _embedded_key(data_dir / "secret.key"), ()


def _key_ring(env: dict[str, str], name: str) -> list[bytes]:
    try:
        return parse_key_ring(env.get(name) or "")
    except ValueError as exc:
        raise SettingsError(f"{name} is malformed: {exc}") from None


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
