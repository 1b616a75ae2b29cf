"""A change to one of a key's settings, as streamed to open dashboards."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from graph.types.api_key import ApiKey
from resolvers.live_settings import SettingsChange as SettingsChangeEvent


@strawberry.enum(description="What a `settingsChanged` event says.")
class SettingsChangeKind(Enum):
    CHANGED = strawberry.enum_value(
        "CHANGED", description="One section of the key's settings changed (see `section`)."
    )
    EVENTS_MAY_BE_MISSED = strawberry.enum_value(
        "EVENTS_MAY_BE_MISSED",
        description="The server's connection to the other replicas dropped and came back: "
        "changes made meanwhile may never have been announced on this stream. `apiKey` is "
        "read afresh; refetch anything else you show. `section` is `*` and `actor` is "
        "`switchboard`. The stream stays open.",
    )


@strawberry.type(
    description="One of a key's settings changed (the key is read afresh), or, with kind "
    "EVENTS_MAY_BE_MISSED, changes may have gone unannounced and the client should refetch."
)
class SettingsChange:
    api_key: ApiKey = strawberry.field(description="The key, with its settings as they are now.")
    section: str = strawberry.field(
        description="What changed: messaging, smsWebhooks, messagesWebhooks, signature, numbers "
        "(and any section later features add); `*` when kind is EVENTS_MAY_BE_MISSED."
    )
    actor: str = strawberry.field(
        description="Who changed it, e.g. key:abcd1234; `switchboard` when kind is "
        "EVENTS_MAY_BE_MISSED."
    )
    at: datetime = strawberry.field(description="When it changed (or when events resumed).")
    kind: SettingsChangeKind = strawberry.field(
        description="CHANGED for a change; EVENTS_MAY_BE_MISSED when the client should refetch."
    )

    @classmethod
    def from_event(cls, event: SettingsChangeEvent) -> SettingsChange:
        return cls(
            api_key=ApiKey.from_row(event.api_key),
            section=event.section,
            actor=event.actor,
            at=event.at,
            kind=(
                SettingsChangeKind.EVENTS_MAY_BE_MISSED
                if event.events_missed
                else SettingsChangeKind.CHANGED
            ),
        )
