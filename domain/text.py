"""Text that goes into a register record and from there into email headers and pages: one line, no tricks."""

from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates can make a name display as something else (U+202A-E, U+2066-9).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ONE_LINE = "use one line of text, without line breaks, tabs or other control characters"


def one_line(value: str | None) -> str | None:
    """The value unchanged, or ValueError if it holds a control character (CR, LF, tab, NUL, bidi overrides).

    Zero-width joiners stay allowed: names in several scripts need them.
    """
    if value is not None and any(
        unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS or c in "\u2028\u2029" for c in value
    ):
        raise ValueError(ONE_LINE)
    return value
