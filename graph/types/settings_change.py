"""A change to one of a key's settings, as streamed to open dashboards."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.types.api_key import ApiKey
from resolvers.live_settings import SettingsChange as SettingsChangeEvent


@strawberry.type(description="One of a key's settings changed; the key is read afresh.")
class SettingsChange:
    api_key: ApiKey = strawberry.field(description="The key, with its settings as they are now.")
    section: str = strawberry.field(
        description="What changed: messaging, smsWebhooks, messagesWebhooks, signature, numbers "
        "(and any section later features add)."
    )
    actor: str = strawberry.field(description="Who changed it, e.g. key:abcd1234.")
    at: datetime = strawberry.field(description="When it changed.")

    @classmethod
    def from_event(cls, event: SettingsChangeEvent) -> SettingsChange:
        return cls(
            api_key=ApiKey.from_row(event.api_key),
            section=event.section,
            actor=event.actor,
            at=event.at,
        )
