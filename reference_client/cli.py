"""The `ims-reference-client` command: `serve` (the default), `rotate-key`, `generate-key`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from reference_client.components import Components
from reference_client.config import VARIABLES, ConfigError, Settings, load_settings
from reference_client.database import DatabaseError
from reference_client.keyring import KeyFileError, encode_key, generate_key
from reference_client.rotation import RotationError, rotate
from reference_client.server import bind_socket, serve, url_for
from reference_client.version import __version__

PROG = "ims-reference-client"


def _environment_help() -> str:
    width = max(len(name) for name in VARIABLES)
    lines = [f"  {name.ljust(width)}  {text}" for name, text in VARIABLES.items()]
    return "configuration (environment variables):\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "The Lightroom partner reference app: signs users in with Adobe IMS (authorization code "
            "flow with state, nonce and PKCE), keeps their tokens encrypted on the server, refreshes "
            "them, and shows the IMS profile and Lightroom account."
        ),
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve_parser = commands.add_parser(
        "serve",
        help="run the app (the default command)",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_serve_options(serve_parser, default=argparse.SUPPRESS)
    commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored token under a new key",
        description=(
            "With a key file (the default), generate a new key, re-encrypt every stored token set, "
            "and drop the old key. With TOKEN_ENCRYPTION_KEY, re-encrypt under that key whatever is "
            "sealed with a key in TOKEN_ENCRYPTION_PREVIOUS_KEYS. Users stay logged in."
        ),
    )
    commands.add_parser("generate-key", help="print a new random key for TOKEN_ENCRYPTION_KEY")
    _add_serve_options(parser)
    return parser


def _add_serve_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    # The same options before or after `serve`; after it, they only override when given.
    parser.add_argument("--host", default=default, help="interface to listen on (overrides HOST)")
    parser.add_argument(
        "--port", type=int, default=default, help="port to listen on, 0 for a free one (overrides PORT)"
    )
    parser.add_argument(
        "--log-level",
        default="info" if default is None else default,
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (default: info)",
    )


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _settings(environ: Mapping[str, str]) -> Settings | None:
    try:
        return load_settings(environ)
    except ConfigError as exc:
        print(f"{PROG}: the configuration has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        print(f"Run '{PROG} --help' for every variable.", file=sys.stderr)
        return None


def run_serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    settings = _settings(environ)
    if settings is None:
        return 2
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        return _fail("--port must be between 0 and 65535")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    url = url_for(sock, host)
    settings = settings.bound_to(url)
    try:
        components = Components.build(settings)
    except (DatabaseError, KeyFileError) as exc:
        sock.close()
        return _fail(str(exc))
    print(
        "\n".join(
            [
                f"{PROG} {__version__}: the Lightroom partner reference app",
                "",
                f"  URL:           {url}/",
                f"  IMS:           {settings.ims_base_url}",
                f"  Lightroom:     {settings.lightroom_base_url}",
                f"  redirect URI:  {settings.redirect_uri}",
                f"  client_id:     {settings.client_id}",
                f"  data dir:      {settings.data_dir}",
                "",
                "Press Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )
    try:
        serve(settings, sock, components=components, log_level=args.log_level)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print(f"{PROG}: stopped.", flush=True)
    return 0


def run_rotate(environ: Mapping[str, str]) -> int:
    settings = _settings(environ)
    if settings is None:
        return 2
    try:
        report = rotate(settings)
    except (RotationError, KeyFileError, DatabaseError, OSError) as exc:
        return _fail(str(exc))
    print(f"current key:   {report.key_id}")
    print(f"re-encrypted:  {report.reencrypted} token set(s); {report.already_current} already current")
    if report.discarded:
        print(f"discarded:     {report.discarded} token set(s) that failed authentication (tampered)")
    if report.key_file is not None:
        if report.retired_keys:
            print(f"retired keys:  {', '.join(report.retired_keys)} (removed from {report.key_file})")
        else:
            print(f"kept keys:     {', '.join(report.remaining_keys)} (rows changed meanwhile; run again)")
    elif len(report.remaining_keys) > 1:
        print(
            "every token set now uses TOKEN_ENCRYPTION_KEY: remove TOKEN_ENCRYPTION_PREVIOUS_KEYS and restart"
        )
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if environ is None else environ
    if args.command == "rotate-key":
        return run_rotate(env)
    if args.command == "generate-key":
        print(encode_key(generate_key()))
        return 0
    return run_serve(args, env)


if __name__ == "__main__":
    sys.exit(main())
