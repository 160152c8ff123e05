"""mock-ims: an offline, strict mock of Adobe IMS for testing Lightroom partner apps."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mock_ims.config import ClientConfig, ConfigError, MockConfig, UserConfig, default_config, load_config
from mock_ims.version import __version__

if TYPE_CHECKING:
    from mock_ims.client import AdminAPIError, ImsClient, KeptLease, Lease, LeaseHeld
    from mock_ims.running import MockIMS
    from mock_ims.tls.interception import Interception

__all__ = [
    "AdminAPIError",
    "ClientConfig",
    "ConfigError",
    "ImsClient",
    "Interception",
    "KeptLease",
    "Lease",
    "LeaseHeld",
    "MockConfig",
    "MockIMS",
    "UserConfig",
    "__version__",
    "default_config",
    "load_config",
]

# Imported on first use (PEP 562): `mock-ims serve` never needs httpx, whose import costs a
# tenth of the server's start-up.
_LAZY = {
    "AdminAPIError": "mock_ims.client",
    "ImsClient": "mock_ims.client",
    "KeptLease": "mock_ims.client",
    "Lease": "mock_ims.client",
    "LeaseHeld": "mock_ims.client",
    "MockIMS": "mock_ims.running",
    "Interception": "mock_ims.tls.interception",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_ims' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
