"""mock-ims: an offline, strict mock of Adobe IMS for testing Lightroom partner apps."""

from __future__ import annotations

from mock_ims.client import AdminAPIError, ImsClient
from mock_ims.config import ClientConfig, ConfigError, MockConfig, UserConfig, default_config, load_config
from mock_ims.running import MockIMS
from mock_ims.version import __version__

__all__ = [
    "AdminAPIError",
    "ClientConfig",
    "ConfigError",
    "ImsClient",
    "MockConfig",
    "MockIMS",
    "UserConfig",
    "__version__",
    "default_config",
    "load_config",
]
