"""Rules for free text from users: lone surrogates, and control characters outside emoji."""

from __future__ import annotations

import unicodedata

ZERO_WIDTH_JOINER = "\u200d"
BLACK_FLAG = "\U0001f3f4"
# Tag characters spell a subdivision after a black flag (England, Scotland, Wales), ending
# with CANCEL TAG.
TAGS = range(0xE0020, 0xE0080)
CANCEL_TAG = "\U000e007f"


def lone_surrogate(text: str) -> int | None:
    """Where `text` holds a lone surrogate (JSON's "\\ud800" decodes to one; it is not a
    character and cannot be written as UTF-8), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _pictographic(char: str) -> bool:
    # Emoji are symbols (So); skin tones are modifiers (Sk); U+FE0F asks for emoji style (Mn).
    return unicodedata.category(char) in ("So", "Sk") or char == "\ufe0f"


def control_character(text: str) -> int | None:
    """Where `text` holds a control or format character (line breaks, bidi overrides and
    isolates, zero-width spaces, lone surrogates) that is not part of an emoji sequence, or
    None. A zero-width joiner joins two emoji (👩‍💻); tag characters follow a black flag."""
    in_flag_tags = False
    for index, char in enumerate(text):
        if char.isprintable():
            in_flag_tags = char == BLACK_FLAG
            continue
        if char == ZERO_WIDTH_JOINER:
            joined = 0 < index < len(text) - 1
            if joined and _pictographic(text[index - 1]) and _pictographic(text[index + 1]):
                continue
        elif ord(char) in TAGS and (in_flag_tags or text[index - 1 : index] == BLACK_FLAG):
            in_flag_tags = char != CANCEL_TAG
            continue
        return index
    return None
