"""Exception hierarchy: every error a user can cause derives from :class:`ReliefsimError`."""

from __future__ import annotations


class ReliefsimError(Exception):
    """Base class for errors reported to the user as one message (exit code 2)."""


class ScenarioError(ReliefsimError, ValueError):
    """A scenario or experiment file is malformed or inconsistent."""


class NetworkError(ReliefsimError, ValueError):
    """A network source cannot be read or prepared."""


class OfflineError(NetworkError):
    """A network must be downloaded but there is no internet connection."""
