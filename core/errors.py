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


class Suspended(Forbidden):
    """The acting account is suspended: read from its row at the action, not from the copy a page holds."""

    MESSAGE = 'This account is suspended. Contact your administrator.'

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class InvalidInput(CofounderError):
    """Bad input from a person; nothing was saved or changed."""


class Conflict(CofounderError):
    """The action does not fit the current state (e.g. building a parked project)."""


class ModelUnavailable(CofounderError):
    """The language model failed; what the founder typed is kept and a retry is offered."""
