"""`DirectRoutes`: the IMS endpoints with fixed paths, dispatched by one dictionary lookup.

Starlette's router tries each route's pattern in turn and its middleware stack wraps every
request and every message of the answer in five layers; for a token request that cost about
as much as everything the endpoint itself does besides signing. A request for one of these
paths, with a method its route accepts, goes straight to the endpoint; anything else (the
admin API, the dashboard, a path with parameters, a method the route refuses) goes to the
Starlette app unchanged, so the answers are the same either way. The app's checks that every
request must pass (HeaderLimit; HostGuard, already outside the app) are put in front of it by
`guarded()`.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_ims.state.context import Context


class DirectRoutes:
    def __init__(self, app: Starlette, routes: list[Route]) -> None:
        """`routes` must not need the app's middleware (no admin or dashboard route)."""
        self.app = app
        self.ctx: Context = app.state.ims
        self.routes = {
            route.path: (route, frozenset(route.methods or ()))
            for route in routes
            if not route.param_convertors  # fixed paths only
        }
        # The app's handler for anything unexpected: a JSON 500, never a traceback.
        self.on_error = app.exception_handlers[Exception]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.routes.get(scope["path"])
            if found is not None and scope["method"] in found[1]:
                await self._direct(found[0], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _direct(self, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.ctx.started:
            await self.ctx.ensure_started()
        # What Starlette's app and router put in the scope on the way to an endpoint.
        scope["app"] = self.app
        scope["router"] = self.app.router
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        request = Request(scope, receive, send)
        try:
            response = await route.endpoint(request)
        except Exception as exc:
            response = await self.on_error(request, exc)
        await response(scope, receive, send)
