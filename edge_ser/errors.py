"""The exception family of edge-ser.

Every error a user can cause (bad audio, bad data directory, tampered artifact) is an
``EdgeSerError`` whose message is one line; the CLI prints it as ``error: <message>`` and
exits with code 2 instead of showing a traceback.
"""


class EdgeSerError(Exception):
    """Base class for user-facing errors with a one-line message."""


class DataError(EdgeSerError):
    """A data directory, corpus or manifest cannot be used as asked."""


class ModelError(EdgeSerError):
    """A model file is missing, unreadable or incompatible."""
