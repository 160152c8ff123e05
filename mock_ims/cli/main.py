"""The `mock-ims` command."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from mock_ims.cli.demo import add_parser as add_demo_parser
from mock_ims.cli.demo import demo
from mock_ims.cli.help import DefaultsHelpFormatter
from mock_ims.config import ConfigError, MockConfig, load_config
from mock_ims.protocol.keys import KeySet
from mock_ims.serving.server import ProxyPlan, bind_socket, is_loopback, run, url_for
from mock_ims.state.context import Settings
from mock_ims.store import StoreError, check_store, redacted_url
from mock_ims.tls.ca import CAError, LeafFiles, LocalCA, local_names
from mock_ims.tls.interception import Interception
from mock_ims.tls.proxy import DEFAULT_HOSTS, Serves, parse_hosts
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
        formatter_class=DefaultsHelpFormatter,
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
        help=(
            "where state lives: memory:// (one process), sqlite:///PATH or 'sqlite' for "
            "DATA_DIR/state.db (one machine), redis://HOST:PORT/DB[?prefix=mock-ims:] (several hosts)"
        ),
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where signing keys (and the 'sqlite' store) are kept (default: $MOCK_IMS_DATA_DIR or {default_data_dir()})",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes; more than one needs a shared store (sqlite or redis)",
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
    tls = serve.add_argument_group("HTTPS and the intercepting proxy")
    tls.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate from the local CA in the data directory (see 'mock-ims ca')",
    )
    tls.add_argument("--cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    tls.add_argument("--key", type=Path, metavar="FILE", help="the private key of --cert (PEM)")
    tls.add_argument(
        "--proxy-port",
        type=int,
        metavar="N",
        help="also run a proxy on loopback port N (0: a free one) that serves IMS's and Lightroom's "
        "real hostnames from this mock, so an app runs unchanged; it never forwards anywhere",
    )
    tls.add_argument(
        "--intercept",
        action="append",
        metavar="HOST[=KIND]",
        help="a host the proxy serves, KIND 'ims' (default) or 'lightroom'; repeat it; replaces "
        f"the default list: {', '.join(f'{h}={k}' for h, k in DEFAULT_HOSTS.items())}",
    )
    ca = commands.add_parser(
        "ca",
        help="show or export the local certificate authority",
        description=(
            "The local CA signs the certificates of 'serve --tls' and of the intercepting proxy. "
            "It is made on first use in the data directory; its key stays there (mode 0600)."
        ),
    )
    ca.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="the data directory")
    shown = ca.add_mutually_exclusive_group(required=True)
    shown.add_argument("--print-path", action="store_true", help="print the path of the CA certificate")
    shown.add_argument("--export", type=Path, metavar="FILE", help="write the CA certificate (PEM) to FILE")
    shown.add_argument(
        "--print-spki",
        action="store_true",
        help="print the CA's public-key hash for Chromium's --ignore-certificate-errors-spki-list",
    )
    add_demo_parser(commands)
    return parser


def _fail(message: str) -> int:
    print(f"mock-ims: error: {message}", file=sys.stderr)
    return 2


def _store_url(raw: str, data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'state.db'}" if raw == "sqlite" else raw


def print_banner(
    url: str, config: MockConfig, settings: Settings, interception: Interception | None = None
) -> None:
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
        f"  store:          {redacted_url(settings.store_url)}",
        f"  data dir:       {settings.data_dir}",
        "  test users (email / password):",
    ]
    lines += [f"    {u.email} / {u.password}  ({u.display_name})" for u in config.users]
    if interception is not None:
        lines += interception.banner_lines()
    lines += ["", "Press Ctrl-C to stop."]
    print("\n".join(lines), flush=True)


class _Refused(Exception):
    """`mock-ims serve` cannot start; the message says why, in one line."""


def serve(args: argparse.Namespace) -> int:
    try:
        _check_options(args)
        data_dir: Path = args.data_dir or default_data_dir()
        settings = _settings(args, data_dir)
        tls, ca = _prepare_data_dir(args, data_dir)
        hosts = _hosts(args)
        sock = _listen(args.host, args.port, shared=args.workers > 1)
        try:
            proxy, interception = _proxy(args, hosts, ca, data_dir)
        except _Refused:
            sock.close()
            raise
    except _Refused as exc:
        return _fail(str(exc))
    print_banner(
        url_for(sock, args.host, "https" if tls else "http"), settings.config, settings, interception
    )
    try:
        run(
            settings,
            sock,
            workers=args.workers,
            log_level=args.log_level,
            access_log=args.access_log,
            tls=tls,
            proxy=proxy,
        )
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if proxy is not None:
            proxy.sock.close()
    print("mock-ims: stopped.", flush=True)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise _Refused("--workers must be at least 1")
    if not 0 <= args.port <= 65535:
        raise _Refused("--port must be between 0 and 65535")
    if not is_loopback(args.host) and not args.allow_remote:
        raise _Refused(
            f"refusing to bind {args.host}: the mock hands out tokens to anyone who asks. "
            "Bind 127.0.0.1, or pass --allow-remote (and --admin-token) if you really mean it."
        )
    if args.allow_remote and not args.admin_token:
        raise _Refused("--allow-remote needs --admin-token, so the admin API is not open to the network")


def _settings(args: argparse.Namespace, data_dir: Path) -> Settings:
    """The configuration and the store, checked before anything listens."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise _Refused(str(exc)) from exc
    settings = Settings(
        config=config,
        store_url=_store_url(args.store, data_dir),
        data_dir=data_dir,
        allow_remote=args.allow_remote,
        admin_token=args.admin_token,
    )
    try:
        shared = check_store(settings.store_url)  # each worker then opens its own
    except StoreError as exc:
        raise _Refused(str(exc)) from exc
    if args.workers > 1 and not shared:
        raise _Refused(
            f"--workers {args.workers} needs a store the workers share: add --store sqlite "
            "(the memory store lives inside one process) or --store redis://HOST"
        )
    return settings


def _prepare_data_dir(args: argparse.Namespace, data_dir: Path) -> tuple[LeafFiles | None, LocalCA | None]:
    """Signing keys (before any worker starts, so they all share them) and the TLS files."""
    try:
        KeySet.load_or_create(data_dir)
    except (OSError, RuntimeError) as exc:
        raise _Refused(f"cannot prepare signing keys in {data_dir}: {exc}") from exc
    try:
        return _tls(args, data_dir)
    except (CAError, ValueError) as exc:
        raise _Refused(str(exc)) from exc


def _hosts(args: argparse.Namespace) -> dict[str, Serves] | None:
    try:
        return _intercepted_hosts(args)
    except ValueError as exc:
        raise _Refused(str(exc)) from exc


def _listen(host: str, port: int, *, shared: bool = False) -> socket.socket:
    try:
        return bind_socket(host, port, shared=shared)
    except OSError as exc:
        raise _Refused(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _proxy(
    args: argparse.Namespace, hosts: dict[str, Serves] | None, ca: LocalCA | None, data_dir: Path
) -> tuple[ProxyPlan | None, Interception | None]:
    """The intercepting proxy, when real hostnames were asked for."""
    if hosts is None:
        return None, None
    try:
        ca = ca or LocalCA.load_or_create(data_dir)
    except CAError as exc:
        raise _Refused(str(exc)) from exc
    proxy_sock = _listen(args.host, args.proxy_port)
    proxy_url = url_for(proxy_sock, args.host)
    interception = Interception(proxy_url, ca.cert_path, ca.spki_sha256(), tuple(hosts))
    return ProxyPlan(proxy_sock, ca, hosts), interception


def _tls(args: argparse.Namespace, data_dir: Path) -> tuple[LeafFiles | None, LocalCA | None]:
    """The certificate to serve HTTPS with (None: plain HTTP), and the CA when one was needed."""
    if (args.cert is None) != (args.key is None):
        raise ValueError("--cert and --key go together")
    if args.cert is not None:
        for flag, path in (("--cert", args.cert), ("--key", args.key)):
            if not path.is_file():
                raise ValueError(f"{flag}: {path} is not a file")
        return LeafFiles(args.cert, args.key), None
    if not args.tls:
        return None, None
    ca = LocalCA.load_or_create(data_dir)
    return ca.leaf_files(local_names(args.host)), ca


def _intercepted_hosts(args: argparse.Namespace) -> dict[str, Serves] | None:
    if args.proxy_port is None:
        if args.intercept:
            raise ValueError("--intercept needs --proxy-port")
        return None
    if not 0 <= args.proxy_port <= 65535:
        raise ValueError("--proxy-port must be between 0 and 65535")
    return parse_hosts(args.intercept) if args.intercept else dict(DEFAULT_HOSTS)


def ca_command(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    try:
        ca = LocalCA.load_or_create(data_dir)
        if args.export is not None:
            ca.export(args.export)
            print(f"mock-ims: wrote the local CA certificate to {args.export}", file=sys.stderr)
        elif args.print_spki:
            print(ca.spki_sha256())
        else:
            print(ca.cert_path)
    except CAError as exc:
        return _fail(str(exc))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "ca":
        return ca_command(args)
    if args.command == "demo":
        return demo(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
