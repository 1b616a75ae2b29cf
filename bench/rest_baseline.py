"""The yardstick: the dashboard as hand-written Starlette JSON over Tortoise prefetch_related."""

# It answers exactly the JSON of the GraphQL dashboard query (the bench checks), behind the
# same authentication middleware, so the two differ only in how they read and shape rows.

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.query_utils import Prefetch

from graph.relay import to_global_id
from models.account import Account
from models.config import tortoise_config
from models.credentials import ApiKey, ApiSecret
from models.webhooks import Number
from resolvers.auth import live_secrets_filter
from resolvers.deps import Deps
from resolvers.pagination import MAX_PAGE_SIZE, encode_cursor
from resolvers.principal import Principal
from resolvers.reads import HIPAA_NOTICE
from server.auth import PRINCIPAL_KEY, AuthMiddleware
from server.heap import freeze_startup_heap
from server.limits import MAX_BODY_BYTES, BodyLimitMiddleware, SecurityHeadersMiddleware
from server.logs import AccessLogMiddleware
from server.settings import Settings
from signing.secrets import mask_hint


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _page_info(rows: list[Any], more: bool) -> dict[str, Any]:
    cursors = [encode_cursor(row.id) for row in rows]
    return {
        "hasNextPage": more,
        "hasPreviousPage": False,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }


def _key_json(key: ApiKey) -> dict[str, Any]:
    messaging, signature = key.messaging, key.signature
    return {
        "id": to_global_id("ApiKey", key.id),
        "key": key.key,
        "nickname": key.nickname,
        "isPrimary": key.is_primary,
        "createdAt": _when(key.created_at),
        "secrets": [
            {
                "id": to_global_id("ApiSecret", secret.id),
                "masked": mask_hint(secret.hint),
                "createdAt": _when(secret.created_at),
                "lastUsedAt": _when(secret.last_used_at),
                "expiresAt": _when(secret.expires_at),
            }
            for secret in key.secrets
        ],
        "messaging": {
            "api": messaging.api.value,
            "version": messaging.version,
            "sms": {
                "format": messaging.sms_format.value,
                "deliveryReceiptUrl": messaging.delivery_receipt_url,
                "inboundSmsUrl": messaging.inbound_sms_url,
            },
            "messages": {"statusUrl": messaging.status_url, "inboundUrl": messaging.inbound_url},
        },
        "signature": {
            "method": signature.method.value,
            "maskedSecret": mask_hint(signature.secret_hint),
            "signSmsWebhooks": signature.sign_sms_webhooks,
        },
    }


async def _rows(principal: Principal, now: datetime) -> tuple[Account, list[ApiKey], list[Number]]:
    keys = ApiKey.filter(account_id=principal.account_id)
    numbers = Number.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        keys = keys.filter(id=principal.api_key_id)
        numbers = numbers.filter(api_key_id=principal.api_key_id)
    live = ApiSecret.filter(live_secrets_filter(now)).order_by("created_at", "id")
    account = await Account.get(id=principal.account_id)
    key_rows = (
        await keys.order_by("id")
        .limit(MAX_PAGE_SIZE + 1)
        .prefetch_related(Prefetch("secrets", queryset=live), "messaging", "signature")
    )
    number_rows = await numbers.order_by("id").limit(MAX_PAGE_SIZE + 1).prefetch_related("api_key")
    return account, key_rows, number_rows


async def dashboard(request: Request) -> JSONResponse:
    principal: Principal | None = request.scope.get(PRINCIPAL_KEY)
    if principal is None:
        return JSONResponse({"error": "authentication required"}, status_code=401)
    deps: Deps = request.app.state.deps
    account, keys, numbers = await _rows(principal, deps.clock())
    via = next((key for key in keys if key.id == principal.via_api_key_id), None)
    if via is None and principal.via_api_key_id is not None:
        via = await ApiKey.get_or_none(id=principal.via_api_key_id)
    viewer = {
        "role": principal.role.value,
        "account": {
            "id": to_global_id("Account", account.id),
            "name": account.name,
            "compliance": {
                "hipaaEnabled": account.hipaa_enabled,
                "notice": HIPAA_NOTICE if account.hipaa_enabled else None,
            },
            "apiKeys": {
                "pageInfo": _page_info(keys[:MAX_PAGE_SIZE], len(keys) > MAX_PAGE_SIZE),
                "edges": [
                    {"cursor": encode_cursor(key.id), "node": _key_json(key)}
                    for key in keys[:MAX_PAGE_SIZE]
                ],
            },
            "numbers": {
                "edges": [{"node": _number_json(number)} for number in numbers[:MAX_PAGE_SIZE]]
            },
        },
        "apiKey": {"key": via.key} if via is not None else None,
    }
    return JSONResponse({"data": {"viewer": viewer}})


def _number_json(number: Number) -> dict[str, Any]:
    return {
        "id": to_global_id("Number", number.id),
        "msisdn": number.msisdn,
        "country": number.country,
        "inboundWebhookUrl": number.inbound_webhook_url,
        "apiKey": {"key": number.api_key.key} if number.api_key is not None else None,
    }


def create_rest_app(settings: Settings, *, deps: Deps, init_database: bool = True) -> Starlette:
    """The real app's middleware (less metrics and tracing), then one hand-written route."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not init_database:
            yield
            return
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            freeze_startup_heap()  # as the real app does, so both run alike
            yield

    # The real app's middleware, in its order, less metrics and tracing (on by default in the
    # real app): the baseline pays for no observability, so the ratio errs against /graphql.
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(AccessLogMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES),
        Middleware(AuthMiddleware, deps=deps),
    ]
    app = Starlette(
        routes=[Route("/dashboard", dashboard, methods=["GET"])],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.deps = deps
    return app
