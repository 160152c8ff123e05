"""`python -m tests.conformance.twins NAME [--port N] [--host H] [--log-level L]`: serve one
evil twin, configured by the reference client's environment variables."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from reference_client.config import ConfigError, load_settings
from reference_client.server import bind_socket, url_for
from tests.conformance.twins import TWINS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.twins", description=__doc__)
    parser.add_argument("name", choices=sorted(TWINS), metavar="NAME", help=", ".join(sorted(TWINS)))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    sock = bind_socket(args.host, args.port)
    url = url_for(sock, args.host)
    settings = settings.bound_to(url)
    twin = TWINS[args.name]
    print(f"evil twin {twin.name} (breaks {twin.breaks}: {twin.flaw}) at {url}/", flush=True)
    app = twin.build(settings)
    config = uvicorn.Config(app, lifespan="on", log_level=args.log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
