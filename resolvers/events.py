"""Events other replicas and open dashboards hear about: settings changes, delivery steps."""

from __future__ import annotations

from resolvers.deps import Deps


def settings_channel(api_key_id: int) -> str:
    return f"settings:{api_key_id}"


def delivery_channel(delivery_id: int) -> str:
    return f"delivery:{delivery_id}"


async def settings_changed(*, deps: Deps, api_key_id: int, section: str, actor: str) -> None:
    """Tell every subscriber of this key (on any replica) that one of its settings changed."""
    await deps.broker.publish(
        settings_channel(api_key_id),
        {
            "apiKeyId": api_key_id,
            "section": section,
            "actor": actor,
            "at": deps.clock().isoformat(),
        },
    )
