"""The root Subscription, merged from one class per domain (`<domain>_subscriptions.py`)."""

from __future__ import annotations

from graph.subscriptions.delivery_subscriptions import DeliverySubscriptions
from graph.subscriptions.settings_subscriptions import SettingsSubscriptions

# Each domain adds its class here; schema.py merges them into one `Subscription`.
SUBSCRIPTION_TYPES: tuple[type, ...] = (SettingsSubscriptions, DeliverySubscriptions)
