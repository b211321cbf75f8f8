"""The unique pupil number (UPN): 13 characters, a check letter first (DfE "Unique pupil numbers" guidance).

The check letter is the sum of characters 2 to 13 weighted 2 to 13, modulo 23, as a letter of CHECK_LETTERS.
A temporary UPN ends in a letter, which counts as its position in the same table.
"""

from __future__ import annotations

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_SHAPE = re.compile(rf"^[{CHECK_LETTERS}]\d{{11}}[\d{CHECK_LETTERS}]$")


def check_letter(rest: str) -> str:
    """The check letter for characters 2 to 13 of a UPN."""
    total = sum(
        (int(c) if c.isdigit() else CHECK_LETTERS.index(c)) * weight for weight, c in enumerate(rest, start=2)
    )
    return CHECK_LETTERS[total % 23]


def normalise_upn(value: str) -> str:
    """The UPN in capitals without spaces; ValueError with the reason, in plain words, if it is not one."""
    upn = "".join(value.split()).upper()
    if len(upn) != 13:
        raise ValueError("a UPN has 13 characters: a letter, then 11 digits, then a digit or a letter")
    if not _SHAPE.match(upn):
        raise ValueError("a UPN is a letter, then 11 digits, then a digit or a letter")
    if check_letter(upn[1:]) != upn[0]:
        raise ValueError("the UPN's check letter does not match the rest of it: copy it again from the MIS")
    return upn


def make_upn(rest: str) -> str:
    """A whole UPN from its last 12 characters (for tests and the demo data)."""
    return check_letter(rest) + rest
