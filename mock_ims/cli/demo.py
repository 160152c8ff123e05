"""`mock-ims demo`: the mock IMS and the reference client, wired together on loopback.

The README's first command. The reference client runs in a thread of this process and talks to
the mock over HTTP exactly as it would to the real IMS; nothing is shared but URLs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mock_ims.cli.help import DefaultsHelpFormatter
from mock_ims.config import ConfigError, load_config
from mock_ims.protocol.keys import KeySet
from mock_ims.serving.server import bind_socket, run, url_for
from mock_ims.state.context import Settings
from mock_ims.version import __version__

DEFAULT_CLIENT_PORT = 8000


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
    # Imported here: `mock-ims serve` must not need the reference client's modules.
    from reference_client.app import create_app as create_client_app
    from reference_client.config import ConfigError as ClientConfigError
    from reference_client.config import load_settings
    from reference_client.server import ThreadedServer
    from reference_client.server import url_for as client_url_for

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
        client_sock = bind_socket("127.0.0.1", args.client_port)
    except OSError as exc:
        print(f"mock-ims: error: cannot listen on loopback: {exc.strerror or exc}")
        return 2
    ims_url = url_for(mock_sock, "127.0.0.1")
    client_url = client_url_for(client_sock, "127.0.0.1")
    try:
        client_settings = load_settings(
            {
                "IMS_BASE_URL": ims_url,
                "IMS_CLIENT_ID": client.client_id,
                "IMS_CLIENT_SECRET": client.client_secret,
                "LIGHTROOM_BASE_URL": ims_url,
                "DATA_DIR": str(args.data_dir / "reference-client"),
            }
        ).bound_to(client_url)
    except ClientConfigError as exc:
        print(f"mock-ims: error: {exc}")
        return 2
    app = ThreadedServer(create_client_app(client_settings), sock=client_sock, log_level=args.log_level)
    app.start()
    user = config.users[0] if config.users else None
    lines = [
        f"mock-ims {__version__} demo: a mock of Adobe IMS and the reference partner app.",
        "",
        f"  Open {client_url}/ and sign in{f' as {user.email} / {user.password}' if user else ''}.",
        "",
        f"  mock IMS:          {ims_url}  (dashboard at {ims_url}/)",
        f"  reference client:  {client_url}  (tokens encrypted in {client_settings.database_path})",
        f"  client_id:         {client.client_id}",
        "",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    settings = Settings(config=config, store_url="memory://", data_dir=mock_dir)
    try:
        run(settings, mock_sock, log_level=args.log_level)
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
        mock_sock.close()
    print("mock-ims: stopped.", flush=True)
    return 0
