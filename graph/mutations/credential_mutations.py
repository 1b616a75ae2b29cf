"""Mutations on credentials: log in, create and rename keys, create/revoke/roll/reveal secrets."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.context import Context, principal_of
from graph.errors import user_errors
from graph.relay import edge_of, pk_of, to_global_id
from graph.types.api_key import ApiKey, ApiSecret
from graph.types.credential_payloads import (
    ApiKeyCreateInput,
    ApiKeyCreatePayload,
    ApiKeyUpdateInput,
    ApiKeyUpdatePayload,
    ApiSecretCreateInput,
    ApiSecretCreatePayload,
    ApiSecretRevealInput,
    ApiSecretRevealPayload,
    ApiSecretRevokeInput,
    ApiSecretRevokePayload,
    ApiSecretRollInput,
    ApiSecretRollPayload,
    SessionCreateInput,
    SessionCreatePayload,
    SessionRevokePayload,
)
from resolvers import api_keys, credentials, sessions
from resolvers.errors import DomainError
from resolvers.principal import Role

Input = strawberry.argument(
    description="The mutation's input; each field is described on its type."
)


def _secret_pk(global_id: str) -> int | None:
    return pk_of(global_id, "ApiSecret")


@strawberry.type
class CredentialMutations:
    @strawberry.mutation(
        description="Log in: exchange an API key and secret for a session token. Needs no "
        "Authorization header. Wrong credentials answer FORBIDDEN (never saying which part was "
        "wrong) and repeated failures RATE_LIMITED."
    )
    async def session_create(
        self, info: Info[Context, None], input: Annotated[SessionCreateInput, Input]
    ) -> SessionCreatePayload:
        context = info.context
        try:
            session = await sessions.create_session(
                deps=context.deps,
                request=context.request_info,
                api_key=input.api_key,
                api_secret=input.api_secret,
                role=Role(input.role.value) if input.role else None,
            )
        except DomainError as error:
            return SessionCreatePayload(user_errors=user_errors(error))
        return SessionCreatePayload(token=session.token, expires_at=session.expires_at)

    @strawberry.mutation(
        description="Log out: end the session token this request is authenticated with, on "
        "every replica. Later requests with it answer 401 UNAUTHENTICATED. A token also ends "
        "when the secret that created it is revoked, rolled away or expires. Requests "
        "authenticated with Basic credentials have no session to end (INVALID_INPUT)."
    )
    async def session_revoke(self, info: Info[Context, None]) -> SessionRevokePayload:
        context = info.context
        try:
            await sessions.revoke_session(
                principal=principal_of(info), request=context.request_info
            )
        except DomainError as error:
            return SessionRevokePayload(user_errors=user_errors(error))
        return SessionRevokePayload(revoked=True)

    @strawberry.mutation(
        description='Create another API key ("Request more API keys") with one generated secret, '
        "a fresh signature secret (SHA256_HMAC) and SMS API / POST_JSON webhooks. Needs ADMIN "
        "on the primary key; limited per account (API_KEY_LIMIT_REACHED)."
    )
    async def api_key_create(
        self, info: Info[Context, None], input: Annotated[ApiKeyCreateInput, Input]
    ) -> ApiKeyCreatePayload:
        principal = principal_of(info)
        try:
            created = await api_keys.create_api_key(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                nickname=input.nickname,
            )
        except DomainError as error:
            return ApiKeyCreatePayload(user_errors=user_errors(error))
        key = ApiKey.from_row(created.api_key)
        return ApiKeyCreatePayload(
            api_key=key,
            api_key_edge=edge_of(key, created.api_key.id),
            secret_plaintext=created.plaintext,
        )

    @strawberry.mutation(description="Rename an API key; a null or blank nickname clears it.")
    async def api_key_update(
        self, info: Info[Context, None], input: Annotated[ApiKeyUpdateInput, Input]
    ) -> ApiKeyUpdatePayload:
        principal = principal_of(info)
        nickname = api_keys.UNCHANGED if input.nickname is strawberry.UNSET else input.nickname
        try:
            key = await api_keys.update_api_key(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                api_key_id=pk_of(input.api_key_id, "ApiKey"),
                nickname=nickname,
            )
        except DomainError as error:
            return ApiKeyUpdatePayload(user_errors=user_errors(error))
        return ApiKeyUpdatePayload(api_key=ApiKey.from_row(key))

    @strawberry.mutation(
        description="Add a secret to a key: yours (checked against the rule, SECRET_COMPLEXITY) "
        "or generated. At most two live secrets per key (SECRET_LIMIT_REACHED)."
    )
    async def api_secret_create(
        self, info: Info[Context, None], input: Annotated[ApiSecretCreateInput, Input]
    ) -> ApiSecretCreatePayload:
        principal = principal_of(info)
        try:
            created = await credentials.create_secret(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                api_key_id=pk_of(input.api_key_id, "ApiKey"),
                secret=input.secret,
            )
        except DomainError as error:
            return ApiSecretCreatePayload(user_errors=user_errors(error))
        return ApiSecretCreatePayload(
            api_secret=ApiSecret.from_row(created.secret),
            secret_plaintext=created.plaintext,
            api_key=ApiKey.from_row(created.api_key),
        )

    @strawberry.mutation(
        description="Revoke a secret at once. A key always keeps one secret that does not "
        "expire (LAST_SECRET); roll instead to replace it."
    )
    async def api_secret_revoke(
        self, info: Info[Context, None], input: Annotated[ApiSecretRevokeInput, Input]
    ) -> ApiSecretRevokePayload:
        principal = principal_of(info)
        try:
            revoked = await credentials.revoke_secret(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                secret_id=_secret_pk(input.secret_id),
            )
        except DomainError as error:
            return ApiSecretRevokePayload(user_errors=user_errors(error))
        return ApiSecretRevokePayload(
            revoked_secret_id=to_global_id("ApiSecret", revoked.secret.id),
            api_key=ApiKey.from_row(revoked.api_key),
        )

    @strawberry.mutation(
        description="Replace a secret with a new one; the old one keeps working for "
        "`expiresInSeconds` (default 24 hours) and then stops by itself."
    )
    async def api_secret_roll(
        self, info: Info[Context, None], input: Annotated[ApiSecretRollInput, Input]
    ) -> ApiSecretRollPayload:
        principal = principal_of(info)
        try:
            rolled = await credentials.roll_secret(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                secret_id=_secret_pk(input.secret_id),
                expires_in_seconds=input.expires_in_seconds,
            )
        except DomainError as error:
            return ApiSecretRollPayload(user_errors=user_errors(error))
        return ApiSecretRollPayload(
            api_secret=ApiSecret.from_row(rolled.secret),
            secret_plaintext=rolled.plaintext,
            previous_secret=ApiSecret.from_row(rolled.previous) if rolled.previous else None,
            api_key=ApiKey.from_row(rolled.api_key),
        )

    @strawberry.mutation(
        description="Show a secret in plaintext. ADMIN only, recorded in the audit log, and "
        "limited to a few reveals a minute (RATE_LIMITED)."
    )
    async def api_secret_reveal(
        self, info: Info[Context, None], input: Annotated[ApiSecretRevealInput, Input]
    ) -> ApiSecretRevealPayload:
        principal = principal_of(info)
        try:
            plaintext = await credentials.reveal_secret(
                deps=info.context.deps,
                principal=principal,
                request=info.context.request_info,
                secret_id=_secret_pk(input.secret_id),
            )
        except DomainError as error:
            return ApiSecretRevealPayload(user_errors=user_errors(error))
        return ApiSecretRevealPayload(secret_plaintext=plaintext)
