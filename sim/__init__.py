"""reliefsim: discrete-event simulation of disaster relief and rescue response."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
