"""The GraphQL documents the bench sends (the dashboard one matches tests/graph/test_reads.py)."""

from __future__ import annotations

DASHBOARD = """
query Dashboard {
  viewer {
    role
    account {
      id name
      compliance { hipaaEnabled notice }
      apiKeys(first: 100) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node {
          id key nickname isPrimary createdAt
          secrets { id masked createdAt lastUsedAt expiresAt }
          messaging { api version sms { format deliveryReceiptUrl inboundSmsUrl }
                      messages { statusUrl inboundUrl } }
          signature { method maskedSecret signSmsWebhooks }
        } }
      }
      numbers(first: 100) { edges { node { id msisdn country inboundWebhookUrl apiKey { key } } } }
    }
    apiKey { key }
  }
}
"""

# The cheapest authenticated operation: what authentication itself costs shows through.
VIEWER_ROLE = "query ViewerRole { viewer { role } }"
