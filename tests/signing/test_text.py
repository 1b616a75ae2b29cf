"""Free-text rules: emoji sequences are text; controls, bidi overrides and lone surrogates not."""

from __future__ import annotations

import pytest

from resolvers.api_keys import clean_nickname
from resolvers.errors import DomainError
from signing.text import control_character, lone_surrogate

EMOJI = [
    "👩\u200d💻",  # woman technologist: two emoji joined by a zero-width joiner
    "👨\u200d👩\u200d👧",
    "🏳\ufe0f\u200d🌈",  # variation selector before the joiner
    "👍🏽",  # skin tone
    "🇫🇷",  # regional indicators
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland (tags)
    "1\ufe0f\u20e3",  # keycap
    "Prod key 👩\u200d💻 EU",
]
REFUSED = [
    ("a\u202eb", 1),  # right-to-left override
    ("a\u2066b", 1),  # left-to-right isolate
    ("a\u200db", 1),  # a joiner between letters
    ("\u200d👩", 0),
    ("👩\u200d", 1),
    ("a\nb", 1),
    ("x\u200b", 1),  # zero-width space
    ("ab\U000e0067", 2),  # a tag character with no flag
    ("\ud800", 0),
]


@pytest.mark.parametrize("text", EMOJI)
def test_emoji_sequences_are_text(text: str) -> None:
    assert control_character(text) is None
    assert clean_nickname(text) == text.strip()


@pytest.mark.parametrize(("text", "at"), REFUSED)
def test_controls_and_overrides_are_refused_where_they_are(text: str, at: int) -> None:
    assert control_character(text) == at
    with pytest.raises(DomainError) as refused:
        clean_nickname(text)
    assert refused.value.field == ["nickname"]


def test_lone_surrogates_are_found() -> None:
    assert lone_surrogate("Abcdefgh1\ud800") == 9
    assert lone_surrogate("Abcdefgh1😀") is None
