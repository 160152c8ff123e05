"""Serving the mock: the Starlette app, the HTTP server and its workers, direct routes, limits and logs."""
