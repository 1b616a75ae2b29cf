"""Generated queries and variables against the real app: never a 5xx, never an unmasked error."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    StringValueNode,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations
from hypothesis_graphql import queries as schema_queries

from graph.relay import to_global_id
from graph.schema import schema
from resolvers.principal import Role
from tests.conftest import Seeded

GRAPHQL = schema._schema
KNOWN_CODES = {
    "UNAUTHENTICATED",
    "BAD_USER_INPUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX",
    "NOT_FOUND",
    "FORBIDDEN",
    "RATE_LIMITED",
    "METHOD_NOT_ALLOWED",
    "BAD_REQUEST",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "NOT_ACCEPTABLE",
    "SUBSCRIPTION_OVER_HTTP",
}
# What never belongs in an answer: Python's own words for a failure.
INTERNAL_MARKS = ("Traceback", "Error(", "object has no attribute", "site-packages", 'File "')
ids = st.sampled_from(
    [
        to_global_id(t, n)
        for t in ("Account", "ApiKey", "ApiSecret", "Number", "AuditEvent", "TestDelivery")
        for n in (1, 2, 999)
    ]
    + ["", "x", "QXBpS2V5Oi0x", "////", "A" * 300]
)
weird_strings = st.one_of(st.text(max_size=40), st.sampled_from(["", "null", "{}", "\x00", "é"]))
ints = st.one_of(st.integers(-5, 200), st.sampled_from([-(2**31), 2**31 - 1]))


def literal(type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A Python value for an input type (sometimes a wrong one, to probe coercion)."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        value = st.lists(literal(inner.of_type, depth + 1), max_size=3)
    elif isinstance(inner, GraphQLEnumType):
        value = st.one_of(st.sampled_from(list(inner.values)), weird_strings)
    elif isinstance(inner, GraphQLInputObjectType) and depth < 3:
        value = st.fixed_dictionaries(
            {}, optional={n: literal(f.type, depth + 1) for n, f in inner.fields.items()}
        )
    elif isinstance(inner, GraphQLScalarType) and inner.name == "ID":
        value = ids
    elif isinstance(inner, GraphQLScalarType) and inner.name == "Int":
        value = ints
    elif isinstance(inner, GraphQLScalarType) and inner.name == "Boolean":
        value = st.booleans()
    else:
        value = weird_strings
    return st.one_of(value, st.none()) if nullable else value


@st.composite
def selection(draw: st.DrawFn, type_: Any, depth: int) -> str:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
        return ""
    if isinstance(type_, GraphQLUnionType):
        return "{ __typename }"
    names = sorted(type_.fields)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    parts = []
    for name in chosen:
        field = type_.fields[name]
        args = {
            n: draw(literal(a.type))
            for n, a in field.args.items()
            if isinstance(a.type, GraphQLNonNull) or draw(st.booleans())
        }
        rendered = ", ".join(
            f"{n}: {json.dumps(v)}" for n, v in args.items() if not isinstance(v, dict)
        )
        sub = draw(selection(field.type, depth + 1)) if depth < 6 else "{ __typename }"
        leaf_needs_sub = sub == "" and not isinstance(
            _named(field.type), GraphQLScalarType | GraphQLEnumType
        )
        parts.append(
            f"{name}{f'({rendered})' if rendered else ''} "
            f"{'{ __typename }' if leaf_needs_sub else sub}"
        )
    return "{ " + " ".join(parts) + " }"


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


queries = selection(GRAPHQL.query_type, 0)


def assert_no_unmasked_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code in KNOWN_CODES, (code, error)
        assert not any(mark in error["message"] for mark in INTERNAL_MARKS), error


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries)
async def test_generated_queries_never_fail_unmasked(
    client: httpx.AsyncClient, seeded: Seeded, query: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": seeded.basic}
    )
    assert_no_unmasked_error(response)


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    variables=st.dictionaries(
        st.sampled_from(["id", "key", "first", "after", "n"]),
        st.one_of(ints, weird_strings, st.none(), st.lists(ints)),
    ),
    body_shape=st.sampled_from(["normal", "query_not_string", "variables_string", "list"]),
)
async def test_generated_variables_and_bodies_never_fail_unmasked(
    client: httpx.AsyncClient, seeded: Seeded, variables: dict[str, Any], body_shape: str
) -> None:
    query = (
        "query($id: ID!, $key: String!, $first: Int, $after: String) { node(id: $id) { id } "
        "apiKey(key: $key) { key testDeliveries(first: $first, after: $after) { edges "
        "{ cursor } } } }"
    )
    body: Any = {"query": query, "variables": variables}
    if body_shape == "query_not_string":
        body["query"] = variables
    elif body_shape == "variables_string":
        body["variables"] = json.dumps(variables)
    elif body_shape == "list":
        body = [body]
    response = await client.post("/graphql", json=body, headers={"Authorization": seeded.basic})
    assert_no_unmasked_error(response)


# Operations generated from the schema by hypothesis-graphql, valid ones and ones with one
# violation each, over every root field of Query and Mutation, as each kind of caller.
SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
        lambda moment: StringValueNode(value=moment.isoformat())
    ),
    "JSON": st.sampled_from(["{}", "[]", "null", "x"]).map(lambda v: StringValueNode(value=v)),
}
# testDeliveryStart and testDeliveryRedeliver send webhooks: these apps have no sender
# (nothing may leave the machine), and the fuzzed URLs could name any host. Their refusals
# are tested with a local receiver in tests/server/test_deliveries_*.py and
# tests/graph/test_client_caches.py.
SENDING = {"testDeliveryStart", "testDeliveryRedeliver"}
MUTATIONS = [name for name in GRAPHQL.mutation_type.fields if name not in SENDING]
operations = st.one_of(
    schema_queries(GRAPHQL, custom_scalars=SCALARS, codec=None),
    mutations(GRAPHQL, fields=MUTATIONS, custom_scalars=SCALARS, codec=None),
    schema_queries(GRAPHQL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    mutations(GRAPHQL, fields=MUTATIONS, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
)


@pytest.mark.parametrize("caller", ["ADMIN", "VIEWER", "anonymous"])
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(document=operations)
async def test_schema_generated_operations_never_fail_unmasked(
    client: httpx.AsyncClient, seeded: Seeded, caller: str, document: str
) -> None:
    headers = {} if caller == "anonymous" else {"Authorization": seeded.bearer(Role(caller))}
    response = await client.post("/graphql", json={"query": document}, headers=headers)
    assert_no_unmasked_error(response)
