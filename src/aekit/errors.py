"""The one exception type that reaches the user as a single clear line."""

from __future__ import annotations


class AekitError(ValueError):
    """Bad input or an impossible request: the message is what the user reads.

    The CLI prints it as one line and exits with status 2; library callers can
    catch it (it is a ValueError, as scikit-learn expects). Internal bugs raise
    anything else.
    """
