"""The exception family of edge-ser.

Every error a user can cause (bad audio, bad data directory, tampered artifact) is an
``EdgeSerError`` whose message is one line; the CLI prints it as ``error: <message>`` and
exits with the error's code (2 for bad input) instead of showing a traceback.
"""


class EdgeSerError(Exception):
    """Base class for user-facing errors with a one-line message.

    ``exit_code`` is what the CLI exits with: 2 for bad input, 1 for a failed check.
    """

    exit_code = 2


class CheckFailed(EdgeSerError):
    """A check (such as parity at export) ran and failed; ``report`` says where."""

    exit_code = 1

    def __init__(self, message: str, report: str = "") -> None:
        super().__init__(message)
        self.report = report


class DataError(EdgeSerError):
    """A data directory, corpus or manifest cannot be used as asked."""


class ModelError(EdgeSerError):
    """A model file is missing, unreadable or incompatible."""
