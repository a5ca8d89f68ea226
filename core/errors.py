"""Domain errors with founder-readable messages. The UI shows `str(error)` as is."""

from __future__ import annotations


class CofounderError(Exception):
    """Base: the message is safe and clear enough to show to the person who caused it."""


class NotFound(CofounderError):
    """Missing, or not yours: the two are indistinguishable on purpose (no existence oracle)."""

    def __init__(self, what: str = 'That page') -> None:
        super().__init__(f'{what} was not found.')


class Forbidden(CofounderError):
    pass


class InvalidInput(CofounderError):
    """Bad input from a person; nothing was saved or changed."""


class Conflict(CofounderError):
    """The action does not fit the current state (e.g. building a parked project)."""


class ModelUnavailable(CofounderError):
    """The language model failed; what the founder typed is kept and a retry is offered."""
