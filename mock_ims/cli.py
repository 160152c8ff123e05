"""The `mock-ims` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mock_ims.config import ConfigError, MockConfig, load_config
from mock_ims.context import Settings
from mock_ims.keys import KeySet
from mock_ims.server import bind_socket, is_loopback, run, url_for
from mock_ims.store import StoreError, open_store
from mock_ims.version import __version__

DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    if os.environ.get("MOCK_IMS_DATA_DIR"):
        return Path(os.environ["MOCK_IMS_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mock-ims"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-ims",
        description=(
            "An offline, strict mock of Adobe IMS (OAuth 2.0 / OpenID Connect) for testing "
            "Lightroom partner apps. Not an identity service: never trust its tokens in production."
        ),
        epilog="Run 'mock-ims serve --help' for the server's options.",
    )
    parser.add_argument("--version", action="version", version=f"mock-ims {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="start the mock IMS server",
        description=(
            "Start the mock IMS. It prints its base URL, discovery URL, the default client's "
            "id and secret, and the test users. Ctrl-C stops it."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to bind; a non-loopback one needs --allow-remote"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on; 0 picks a free port"
    )
    serve.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file of clients, users and settings (default: the built-in one)",
    )
    serve.add_argument(
        "--store",
        default="memory://",
        metavar="URL",
        help="where state lives: memory:// (one process), sqlite:///PATH, or 'sqlite' for DATA_DIR/state.db",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where signing keys (and the 'sqlite' store) are kept [default: $MOCK_IMS_DATA_DIR or {default_data_dir()}]",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes; more than one needs a shared store (sqlite)",
    )
    serve.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback interface")
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="bearer token the admin API requires (needed with --allow-remote)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request (uvicorn's access log)")
    return parser


def _fail(message: str) -> int:
    print(f"mock-ims: error: {message}", file=sys.stderr)
    return 2


def _store_url(raw: str, data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'state.db'}" if raw == "sqlite" else raw


def print_banner(url: str, config: MockConfig, settings: Settings) -> None:
    client = config.default_client
    lines = [
        f"mock-ims {__version__}: a mock of Adobe IMS. Never trust its tokens in production.",
        "",
        f"  base URL:       {url}",
        f"  discovery:      {url}/ims/.well-known/openid-configuration",
        f"  authorize:      {url}/ims/authorize/v2",
        f"  token:          {url}/ims/token/v3",
        f"  journal:        {url}/__admin/journal",
        f"  client_id:      {client.client_id}",
        f"  client_secret:  {client.client_secret or '(public client)'}",
        f"  scopes:         {','.join(client.scopes)}",
        f"  store:          {settings.store_url}",
        f"  data dir:       {settings.data_dir}",
        "  test users (email / password):",
    ]
    lines += [f"    {u.email} / {u.password}  ({u.display_name})" for u in config.users]
    lines += ["", "Press Ctrl-C to stop."]
    print("\n".join(lines), flush=True)


def serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        return _fail("--workers must be at least 1")
    if not 0 <= args.port <= 65535:
        return _fail("--port must be between 0 and 65535")
    if not is_loopback(args.host) and not args.allow_remote:
        return _fail(
            f"refusing to bind {args.host}: the mock hands out tokens to anyone who asks. "
            "Bind 127.0.0.1, or pass --allow-remote (and --admin-token) if you really mean it."
        )
    if args.allow_remote and not args.admin_token:
        return _fail("--allow-remote needs --admin-token, so the admin API is not open to the network")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    data_dir: Path = args.data_dir or default_data_dir()
    settings = Settings(
        config=config,
        store_url=_store_url(args.store, data_dir),
        data_dir=data_dir,
        allow_remote=args.allow_remote,
        admin_token=args.admin_token,
    )
    try:
        store = open_store(settings.store_url)
    except StoreError as exc:
        return _fail(str(exc))
    shared = store.shared_across_processes
    del store  # each worker opens its own
    if args.workers > 1 and not shared:
        return _fail(
            f"--workers {args.workers} needs a store the workers share: add --store sqlite "
            "(the memory store lives inside one process)"
        )
    try:
        KeySet.load_or_create(data_dir)  # before any worker starts, so they all share the keys
    except (OSError, RuntimeError) as exc:
        return _fail(f"cannot prepare signing keys in {data_dir}: {exc}")
    try:
        sock = bind_socket(args.host, args.port, shared=args.workers > 1)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    print_banner(url_for(sock, args.host), config, settings)
    try:
        run(settings, sock, workers=args.workers, log_level=args.log_level, access_log=args.access_log)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("mock-ims: stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
