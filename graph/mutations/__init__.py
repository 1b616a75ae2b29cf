"""The root Mutation, merged from one class per domain (`<domain>_mutations.py`)."""

from __future__ import annotations

from graph.mutations.credential_mutations import CredentialMutations
from graph.mutations.delivery_mutations import DeliveryMutations
from graph.mutations.webhook_mutations import WebhookMutations

# Each domain adds its class here; schema.py merges them into one `Mutation`.
MUTATION_TYPES: tuple[type, ...] = (CredentialMutations, WebhookMutations, DeliveryMutations)
