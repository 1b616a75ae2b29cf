"""Documents parsed and validated once are answered the same way every time after."""

from __future__ import annotations

import httpx

from graph.document_cache import _VALIDATED, _parsed
from tests.conftest import Seeded, gql

INVALID = "{ viewer { noSuchField } }"
BROKEN = "{ viewer { role "
TWO_OPERATIONS = "query A { viewer { role } } query B { __typename }"


async def test_invalid_documents_fail_alike_every_time(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    first_invalid = await gql(client, INVALID, auth=seeded.basic)
    assert "noSuchField" in first_invalid["errors"][0]["message"]
    first_broken = await gql(client, BROKEN, auth=seeded.basic)
    assert "Syntax Error" in first_broken["errors"][0]["message"]
    assert await gql(client, INVALID, auth=seeded.basic) == first_invalid
    assert await gql(client, BROKEN, auth=seeded.basic) == first_broken


async def test_a_cached_document_serves_each_of_its_operations(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    for name, data in [("A", {"viewer": {"role": "ADMIN"}}), ("B", {"__typename": "Query"})] * 2:
        response = await client.post(
            "/graphql",
            json={"query": TWO_OPERATIONS, "operationName": name},
            headers={"Authorization": seeded.basic},
        )
        assert response.json() == {"data": data}
    assert _parsed.cache_info().hits >= 3
    # Validated once, though the limiter extensions hand in new rule classes every request.
    assert sum(1 for key in _VALIDATED if key[1] == TWO_OPERATIONS) == 1
