"""The En Commun bridge: connects the CdP 2isE to its Discourse forum."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
