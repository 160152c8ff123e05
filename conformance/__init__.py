"""ims-conformance: judges any partner app's Adobe IMS integration in a real browser."""

from __future__ import annotations

__all__: list[str] = []
