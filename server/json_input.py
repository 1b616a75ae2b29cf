"""JSON from outside (request bodies, GET variables, WebSocket frames), decoded within bounds."""

from __future__ import annotations

import json

# A GraphQL request is an object holding variables; the deepest input here (a signature check
# with headers) nests five levels. Deeper JSON is refused before anything walks it.
MAX_JSON_DEPTH = 32


class MalformedJson(ValueError):
    """The text is not JSON we accept; the message names what is wrong, never the text."""


def decode_json(data: str | bytes, what: str) -> object:
    """`data` decoded, or MalformedJson saying what `what` (e.g. "The request body") lacks."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJson(f"{what} is not valid UTF-8 (byte {exc.start}).") from None
    try:
        value = json.loads(data)
    except json.JSONDecodeError as exc:
        raise MalformedJson(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except RecursionError:
        # The C decoder gives up near the interpreter's recursion limit, ~1,000 levels.
        raise MalformedJson(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise MalformedJson(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.")
    return value


def json_depth(value: object) -> int:
    """How deeply arrays and objects nest in `value` (a scalar is 0), without recursing."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            pending.extend((child, depth + 1) for child in children)
    return deepest
