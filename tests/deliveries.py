"""Test deliveries in tests: an app that really sends (tiny back-offs), and helpers around it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.deliveries import TestDelivery
from models.enums import MessagingApi, SignatureMethod, WebhookFormat
from models.webhooks import MessagingConfig, SignatureConfig
from resolvers import deliveries
from resolvers.deps import Deps
from resolvers.sealing import open_signature_secret
from server.app import build_deps, create_app
from server.sender import HttpxWebhookSender, Resolver
from server.settings import Settings
from server.tasks import BackgroundTasks
from tests.conftest import TEST_MASTER_KEY, Seeded, seed_account
from tests.live import GraphQLWebSocket
from tests.resolving import loopback_resolver


async def pending_delivery(**arguments: Any) -> TestDelivery:
    """A new PENDING delivery, checked and counted but not launched: what testDeliveryStart
    does before it launches one."""
    return (await deliveries.begin_test_delivery(**arguments)).delivery


@dataclass
class DeliveryEnv:
    app: Any
    deps: Deps
    settings: Settings

    @property
    def tasks(self) -> BackgroundTasks:
        assert isinstance(self.deps.delivery_tasks, BackgroundTasks)
        return self.deps.delivery_tasks

    async def seed(self, name: str = "Acme") -> Seeded:
        return await seed_account(self.deps, name)

    async def signature_secret(self, seeded: Seeded) -> str:
        config = await SignatureConfig.get(api_key_id=seeded.api_key_id)
        return open_signature_secret(
            self.deps, config.secret_ciphertext, seeded.api_key, seeded.api_key_id
        )


MakeEnv = Callable[..., DeliveryEnv]


class DeliveryEnvs:
    """Builds apps that send real webhooks; `close` stops every delivery task they started."""

    def __init__(self) -> None:
        self.made: list[DeliveryEnv] = []

    def __call__(
        self,
        *,
        allow_private: bool = True,
        resolver: Resolver = loopback_resolver,
        **overrides: Any,
    ) -> DeliveryEnv:
        values: dict[str, Any] = {"delivery_backoff_seconds": 0.01, **overrides}
        settings = Settings(
            master_key=TEST_MASTER_KEY, allow_private_webhooks=allow_private, **values
        )
        deps = build_deps(settings)
        deps.webhook_sender = HttpxWebhookSender(
            connect_timeout=settings.webhook_connect_timeout_seconds,
            total_timeout=settings.webhook_total_timeout_seconds,
            resolver=resolver,
            port_rule=settings.webhook_ports,
        )
        env = DeliveryEnv(create_app(settings, deps=deps, init_database=False), deps, settings)
        self.made.append(env)
        return env

    async def close(self) -> None:
        for env in self.made:
            await env.tasks.close()


async def configure(
    seeded: Seeded,
    *,
    api: MessagingApi | None = None,
    fmt: WebhookFormat | None = None,
    method: SignatureMethod | None = None,
    sign_sms: bool | None = None,
    **urls: str | None,
) -> None:
    """Set a key's webhook and signature settings directly in storage."""
    messaging = await MessagingConfig.get(api_key_id=seeded.api_key_id)
    if api is not None:
        messaging.api = api
    if fmt is not None:
        messaging.sms_format = fmt
    for name, value in urls.items():
        setattr(messaging, name, value)
    await messaging.save()
    signature = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    if method is not None:
        signature.method = method
    if sign_sms is not None:
        signature.sign_sms_webhooks = sign_sms
    await signature.save()


async def collect(
    ws: GraphQLWebSocket, query: str, variables: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Subscribe and gather every `next` payload until `complete`: (data items, errors)."""
    op_id = await ws.subscribe(query, variables)
    items: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    while True:
        message = await ws.receive()
        assert message.get("id") == op_id, message
        if message["type"] == "complete":
            return items, errors
        if message["type"] == "error":
            return items, [*errors, *message["payload"]]
        payload = message["payload"]
        errors.extend(payload.get("errors") or [])
        if payload.get("data"):
            items.append(next(iter(payload["data"].values())))
