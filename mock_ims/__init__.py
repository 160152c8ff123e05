"""mock-ims: an offline, strict mock of Adobe IMS for testing Lightroom partner apps."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
