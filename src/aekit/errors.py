"""The one exception type that reaches the user as a single clear line."""

from __future__ import annotations

import os

LAYER = "base"  # below every layer: any layer may import it


class AekitError(ValueError):
    """Bad input or an impossible request: the message is what the user reads.

    The CLI prints it as one line and exits with status 2; library callers can
    catch it (it is a ValueError, as scikit-learn expects). Internal bugs raise
    anything else. Control characters in the message (a newline in a file name,
    a terminal escape) are shown escaped, so the message stays one line that no
    input can extend or recolour.
    """

    def __init__(self, message: object = "", *args: object):
        if isinstance(message, str):
            message = one_line(message)
        super().__init__(message, *args)


def one_line(text: str) -> str:
    """`text` with every unprintable character (newline, tab, ESC, U+2028) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show_path(path: str | os.PathLike) -> str:
    """A path for a message: as it is when printable, else quoted and escaped
    like Python's repr ("data/a\\nb.png" -> 'data/a\\nb.png'), one line always."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    return text if text.isprintable() else repr(text)
