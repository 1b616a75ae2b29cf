"""What the costliest documents the limits accept cost to parse and validate, beside the
dashboard query (in-process CPU, caches bypassed, as an attacker varying the text gets)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from graphql import GraphQLError, parse, validate

from bench.documents import DASHBOARD
from bench.report import section, table, verdict
from bench.run import Bench
from graph.document_cache import MAX_ERRORS
from graph.limits import count_tokens, measure
from graph.schema import LIMITS, schema

ROUNDS = 9
PER_ROUND = 0.3  # seconds of CPU per round and document


def _repeat(text: str, times: int, sep: str = " ") -> str:
    return sep.join([text] * times)


def _largest(build: Callable[[int], str], most: int) -> str:
    """The document `build(n)` for the largest n ≤ `most` that the limits accept."""
    chosen = build(1)
    for count in range(1, most + 1):
        try:
            if measure(parse(build(count), max_tokens=LIMITS.max_tokens), LIMITS) is None:
                chosen = build(count)
        except GraphQLError:
            break
    return chosen


def _worst_documents() -> dict[str, str]:
    """Documents built to sit just inside the limits (each grown until the next step would be
    refused; the table says whether validation then accepts it)."""
    key_page = "edges { cursor node { id key nickname isPrimary createdAt } }"
    aliased_keys = _largest(
        lambda n: (
            "{ viewer { account { "
            + " ".join(
                f'k{i}: apiKeys(first: {i + 1}, after: "x") {{ {key_page} }}' for i in range(n)
            )
            + " } } }"
        ),
        LIMITS.max_aliases,
    )
    both = "@include(if: true) @skip(if: false)"
    directives = _largest(
        lambda n: (
            "{ viewer { account { "
            + " ".join(
                f"d{i}: apiKeys(first: {i + 1}) {both} {{ edges {both} {{ node {both} {{ id {both} "
                f"}} }} }}"
                for i in range(n)
            )
            + " } } }"
        ),
        LIMITS.max_aliases,
    )
    chain = _largest(
        lambda n: (
            "{ viewer { account { ...F0 } } } "
            + " ".join(f"fragment F{i} on Account {{ ...F{i + 1} }}" for i in range(n))
            + f" fragment F{n} on Account {{ id }}"
        ),
        200,
    )
    nested = (
        "{ viewer { account { apiKeys { edges { node { testDeliveries { edges { node { "
        "steps { kind } } } } } } } } } }"
    )
    return {
        # Pairs: one response name as often as the pair limit allows, with a sub-selection.
        "same field repeated": "{ " + _repeat("viewer { role }", 10) + " }",
        "fields: aliased key pages": aliased_keys,
        "tokens: directives": directives,
        "tokens: fragment chain": chain,
        "depth 10": nested,
        # The document: 0.9 s of CPU before the limits; now refused by its tokens.
        "400 times viewer { role }": "{ " + _repeat("viewer { role }", 400) + " }",
        "200 times viewer { role }": "{ " + _repeat("viewer { role }", 200) + " }",
    }


def _answer(document: str) -> str:
    """What the server answers: refused by a limit, invalid, or accepted."""
    try:
        parsed = parse(document, max_tokens=LIMITS.max_tokens)
    except GraphQLError:
        return "refused"
    if measure(parsed, LIMITS) is not None:
        return "refused"
    return "invalid" if validate(schema._schema, parsed) else "accepted"


def _cpu_us(document: str) -> float:
    """Median CPU µs of one parse + limit walk + validation (what a new query text costs)."""
    rounds = []
    for _ in range(ROUNDS):
        count, started = 0, time.process_time()
        while time.process_time() - started < PER_ROUND:
            try:
                parsed = parse(document, max_tokens=LIMITS.max_tokens)
                if measure(parsed, LIMITS) is None:
                    validate(schema._schema, parsed, max_errors=MAX_ERRORS)
            except GraphQLError:
                pass
            count += 1
        rounds.append((time.process_time() - started) / count * 1e6)
    return statistics.median(rounds)


async def run(bench: Bench) -> None:
    del bench  # in-process: the server's own parse and validation, without its caches
    documents = {"dashboard query": DASHBOARD, **_worst_documents()}
    rows: list[list[object]] = []
    costs: dict[str, float] = {}
    answers: dict[str, str] = {}
    for label, document in documents.items():
        answers[label] = _answer(document)
        costs[label] = _cpu_us(document)
        row = [label, count_tokens(document), len(document), answers[label]]
        rows.append([*row, f"{costs[label]:.0f}"])
    dashboard = costs["dashboard query"]
    for row in rows:
        row.append(f"{costs[str(row[0])] / dashboard:.2f}")
    section(
        f"parse + validate CPU per new document, at the limits (tokens ≤ {LIMITS.max_tokens}, "
        f"fields ≤ {LIMITS.max_fields}, same-name pairs ≤ {LIMITS.max_pairs}, aliases ≤ "
        f"{LIMITS.max_aliases}, directives ≤ {LIMITS.max_directives}, fragments ≤ "
        f"{LIMITS.max_fragments}, depth ≤ {LIMITS.max_depth})"
    )
    print(table(("", "tokens", "bytes", "answer", "CPU µs", "vs dashboard"), rows))
    # Refused documents count too: the parser's work up to the token limit is spent anyway.
    others = [label for label in costs if label != "dashboard query"]
    worst = max(others, key=costs.__getitem__)
    print(
        verdict(
            "costliest document, accepted or refused",
            f"{worst!r} ({answers[worst]}): {costs[worst] / 1000:.1f} ms, "
            f"{costs[worst] / dashboard:.1f} times the dashboard's",
            "≤ 3 times the dashboard query's",
            costs[worst] <= 3 * dashboard,
        )
    )
