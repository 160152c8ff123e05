"""`mock-ims demo`: the mock IMS and the reference client, wired together on loopback.

The README's first command. The reference client runs as its own process, started the way any
partner app is (`python -m reference_client`, configured by environment), and talks to the mock
over HTTP exactly as it would to the real IMS: the mock does not import it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from mock_ims.cli.help import DefaultsHelpFormatter
from mock_ims.config import ConfigError, load_config
from mock_ims.protocol.keys import KeySet
from mock_ims.serving.server import bind_socket, run, url_for
from mock_ims.state.context import Settings
from mock_ims.version import __version__

DEFAULT_CLIENT_PORT = 8000
CLIENT_START_S = 30.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="start the mock IMS and the reference client together (the quickest way to see it work)",
        description=(
            "Start the mock IMS and the reference partner app wired to it, on loopback, with the "
            "built-in client and users. Open the printed URL and sign in as a test user."
        ),
        formatter_class=DefaultsHelpFormatter,
    )
    demo.add_argument("--port", type=int, default=8765, help="port of the mock IMS (0: a free one)")
    demo.add_argument(
        "--client-port",
        type=int,
        default=DEFAULT_CLIENT_PORT,
        help="port of the reference client (0: a free one)",
    )
    demo.add_argument(
        "--config", type=Path, metavar="FILE", help="mock configuration (default: the built-in one)"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var"),
        metavar="DIR",
        help="where the mock's signing keys and the reference client's encrypted token database go",
    )
    demo.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )


def demo(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"mock-ims: error: {exc}")
        return 2
    client = config.default_client
    if client.client_secret is None:
        print(
            f"mock-ims: error: the demo needs a confidential client first in the configuration, not {client.client_id}"
        )
        return 2
    mock_dir = args.data_dir / "mock-ims"
    KeySet.load_or_create(mock_dir)
    try:
        mock_sock = bind_socket("127.0.0.1", args.port)
        client_port = _free_port() if args.client_port == 0 else args.client_port
    except OSError as exc:
        print(f"mock-ims: error: cannot listen on loopback: {exc.strerror or exc}")
        return 2
    ims_url = url_for(mock_sock, "127.0.0.1")
    client_url = f"http://127.0.0.1:{client_port}"
    client_data = args.data_dir / "reference-client"
    # The reference client is a partner app like any other: its own process, configured by its
    # environment, reaching the mock only through URLs.
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_client",
            "--host",
            "127.0.0.1",
            "--port",
            str(client_port),
            "--log-level",
            args.log_level,
        ],
        env={
            **os.environ,
            "IMS_BASE_URL": ims_url,
            "IMS_CLIENT_ID": client.client_id,
            "IMS_CLIENT_SECRET": client.client_secret,
            "REDIRECT_URI": f"{client_url}/callback",
            "LIGHTROOM_BASE_URL": ims_url,
            "DATA_DIR": str(client_data),
        },
    )
    settings = Settings(config=config, store_url="memory://", data_dir=mock_dir)
    user = config.users[0] if config.users else None
    lines = [
        f"mock-ims {__version__} demo: a mock of Adobe IMS and the reference partner app.",
        "",
        f"  Open {client_url}/ and sign in{f' as {user.email} / {user.password}' if user else ''}.",
        "",
        f"  mock IMS:          {ims_url}  (dashboard at {ims_url}/)",
        f"  reference client:  {client_url}  (tokens encrypted in {client_data})",
        f"  client_id:         {client.client_id}",
        "",
        "Press Ctrl-C to stop.",
    ]
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a supervisor: the app goes too
    try:
        if not _answers(client_url, app):
            print(f"mock-ims: error: the reference client did not start (exit status {app.poll()})")
            return 1
        print("\n".join(lines), flush=True)
        run(settings, mock_sock, log_level=args.log_level)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(app)
        mock_sock.close()
    print("mock-ims: stopped.", flush=True)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str, app: subprocess.Popen[bytes], timeout: float = CLIENT_START_S) -> bool:
    """Whether the app at `url` answers within `timeout` (False as soon as it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and app.poll() is None:
        try:
            with urllib.request.urlopen(url + "/", timeout=1):  # noqa: S310 - a loopback URL we built
                return True
        except urllib.error.HTTPError:
            return True  # any answer is an answer
        except OSError:
            time.sleep(0.05)
    return False


def _stop(app: subprocess.Popen[bytes]) -> None:
    if app.poll() is None:
        app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
