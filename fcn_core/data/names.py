"""Comparing class names: case, spaces and punctuation do not count ("Sign Symbol" is "signsymbol")."""

from __future__ import annotations


def name_key(name: object) -> str:
    """The comparison key of a class name: its letters and digits, lower case."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())
