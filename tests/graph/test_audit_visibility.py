"""What the audit log shows to whom: addresses only to ADMINs, the primary key only to itself."""

from __future__ import annotations

import httpx

from models.account import Account
from resolvers import audit, provisioning
from resolvers.principal import RequestInfo, Role
from tests.conftest import Seeded, basic_header, gql

AUDIT = """{ viewer { account { auditEvents(first: 10) { edges { node {
  id action actor clientAddress } } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on AuditEvent { actor clientAddress } } }"
ADDRESS = "203.0.113.9"


async def test_viewers_see_no_addresses_and_other_keys_no_primary_key(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    account = await Account.get(id=seeded.account_id)
    other, other_secret = await provisioning.create_api_key(
        deps=seeded.deps, account=account, nickname="ops", is_primary=False
    )
    await audit.record(
        account_id=seeded.account_id,
        action="signature_secret.rotate",
        principal=seeded.principal(),
        request=RequestInfo(request_id="r1", client_address=ADDRESS),
        target_id=f"ApiKey:{other.id}",
        api_key_id=other.id,
    )
    admin = (await gql(client, AUDIT, auth=seeded.basic))["data"]["viewer"]["account"]
    (event,) = [e["node"] for e in admin["auditEvents"]["edges"]]
    assert event["clientAddress"] == ADDRESS and seeded.api_key in event["actor"]
    viewer = seeded.bearer(Role.VIEWER)
    seen = (await gql(client, AUDIT, auth=viewer))["data"]["viewer"]["account"]
    assert [e["node"]["clientAddress"] for e in seen["auditEvents"]["edges"]] == [None]
    by_id = await gql(client, NODE, {"id": event["id"]}, auth=viewer)
    assert by_id["data"]["node"]["clientAddress"] is None
    other_auth = basic_header(other.key, other_secret)
    theirs = (await gql(client, AUDIT, auth=other_auth))["data"]["viewer"]["account"]
    (shown,) = [e["node"] for e in theirs["auditEvents"]["edges"]]
    assert seeded.api_key not in str(theirs) and shown["actor"] == "the primary key"
    node = await gql(client, NODE, {"id": event["id"]}, auth=other_auth)
    assert seeded.api_key not in str(node)
