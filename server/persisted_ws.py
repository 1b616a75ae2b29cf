"""Persisted documents over graphql-transport-ws: a subscribe may name its document by ID."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from server.persisted import PersistedDocumentError
from server.ws_frames import FrameCheckedHandler


class PersistedDocumentsWSHandler(FrameCheckedHandler):
    """Puts the document's text into a `subscribe` before Strawberry reads it, and refuses
    what the trusted-documents rule refuses with an `error` message for that operation."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        # Before the acknowledgement, and for malformed frames, Strawberry's own answer stands.
        if self.connection_acknowledged and isinstance(payload, dict):
            view: Any = self.view
            params = getattr(self.context, "connection_params", None) or {}
            authorization = params.get("Authorization") or params.get("authorization")
            trusted_only = view.trusted_documents_only(
                authorization if isinstance(authorization, str) else None
            )
            try:
                query = view.documents.document(
                    payload, payload.get("query"), trusted_only=trusted_only
                )
            except PersistedDocumentError as error:
                await self.send_message(
                    {
                        "id": message["id"],
                        "type": "error",
                        "payload": [{"message": error.reason, "extensions": {"code": error.code}}],
                    }
                )
                return
            if query is not None:
                message = {**message, "payload": {**payload, "query": query}}  # type: ignore[typeddict-item]
        await super().handle_subscribe(message)
