"""Where a real webhook would go, and why: the answer to "which URL will this hit?"."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.effective import EffectiveWebhook as EffectiveResult


@strawberry.enum(description="Which setting decides where a webhook goes.")
class EffectiveWebhookSource(Enum):
    NUMBER_OVERRIDE = strawberry.enum_value(
        "NUMBER_OVERRIDE", description="The number's own inbound webhook overrides the key's."
    )
    KEY_SETTING = strawberry.enum_value(
        "KEY_SETTING", description="The linked key's webhook setting for this event."
    )
    INACTIVE_API = strawberry.enum_value(
        "INACTIVE_API",
        description="The event belongs to the messaging API the key does not use: not sent.",
    )
    NOT_SET = strawberry.enum_value(
        "NOT_SET", description="No URL is configured (or no key is linked): not sent."
    )


@strawberry.type(description="The URL a real webhook would be sent to, and why.")
class EffectiveWebhook:
    url: str | None = strawberry.field(description="Where it goes; null when it is not sent.")
    source: EffectiveWebhookSource = strawberry.field(description="Which setting decided it.")
    reason: str = strawberry.field(description="The decision in words, for people.")

    @classmethod
    def from_result(cls, result: EffectiveResult) -> EffectiveWebhook:
        return cls(
            url=result.url,
            source=EffectiveWebhookSource(result.source.value),
            reason=result.reason,
        )
