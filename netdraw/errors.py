"""The one exception type netdraw raises for problems a user can fix."""

from __future__ import annotations


class NetdrawError(Exception):
    """A problem with the user's input or environment, reported as ``netdraw: error: ...``.

    The message says what went wrong and what to do about it, on one line.
    """

    def __init__(self, message: str, *, partial: object | None = None) -> None:
        super().__init__(" ".join(message.split()))
        #: Whatever was built before the failure (e.g. a partial graph), for Python callers.
        self.partial = partial
