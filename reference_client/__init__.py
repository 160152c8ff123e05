"""The Lightroom partner reference app: Adobe IMS sign-in done right, against the real IMS or
the mock, with the same code."""

from __future__ import annotations

from reference_client.app import create_app
from reference_client.components import Components
from reference_client.config import ConfigError, Settings, load_settings
from reference_client.server import ThreadedServer, bind_socket, running, serve, url_for
from reference_client.version import __version__

__all__ = [
    "Components",
    "ConfigError",
    "Settings",
    "ThreadedServer",
    "__version__",
    "bind_socket",
    "create_app",
    "load_settings",
    "running",
    "serve",
    "url_for",
]
