"""Live settings: a key's change events, streamed to the callers its tenancy rules allow."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from models.credentials import ApiKey
from resolvers import reads
from resolvers.access import owned_api_key
from resolvers.deps import Deps, is_events_missed
from resolvers.events import settings_channel
from resolvers.principal import Principal

log = logging.getLogger("switchboard.live")


@dataclass(frozen=True)
class SettingsChange:
    api_key: ApiKey
    section: str
    actor: str
    at: datetime
    # True when this is no change but a warning that changes may have gone unannounced.
    events_missed: bool = False


# The section and actor of an events-missed notice: it is about no section and by nobody.
EVERY_SECTION = "*"
SYSTEM_ACTOR = "switchboard"


async def watch_settings(
    *, deps: Deps, principal: Principal, api_key_id: int | None
) -> AsyncIterator[SettingsChange]:
    """Every change of this key's settings, from any replica, with the key read afresh;
    after the broker lost events, one change with `events_missed` set.

    The ownership check runs before anything is subscribed (NOT_FOUND for a foreign,
    malformed or missing key); the stream ends if the key stops being visible."""
    key = await owned_api_key(principal=principal, api_key_id=api_key_id)
    async with deps.broker.subscribe(settings_channel(key.id)) as messages:
        async for message in messages:
            if is_events_missed(message):
                fresh = await reads.api_key_by_id(principal=principal, api_key_id=key.id)
                if fresh is None:
                    return
                yield SettingsChange(fresh, EVERY_SECTION, SYSTEM_ACTOR, deps.clock(), True)
                continue
            try:
                section, actor = str(message["section"]), str(message["actor"])
                at = datetime.fromisoformat(message["at"])
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a malformed settings event on key %s", key.id)
                continue
            fresh = await reads.api_key_by_id(principal=principal, api_key_id=key.id)
            if fresh is None:
                return
            yield SettingsChange(api_key=fresh, section=section, actor=actor, at=at)
