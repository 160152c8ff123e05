"""`/__admin/faults` and `/__admin/scenarios`: inject failures at run time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, checked, json_body
from mock_ims.protocol.bodies import ScenarioOptions
from mock_ims.state.context import context
from mock_ims.state.faults import FaultError, FaultRule
from mock_ims.state.scenarios import SCENARIOS, play


async def faults(request: Request) -> Response:
    """GET: active rules; POST: add a rule (201); DELETE: remove them all."""
    ctx = context(request)
    if request.method == "POST":
        try:
            rule = FaultRule.from_request(await json_body(request))
        except FaultError as exc:
            raise AdminError(str(exc)) from exc
        return JSONResponse((await ctx.faults.add(rule)).to_doc(), status_code=201)
    if request.method == "DELETE":
        await ctx.faults.clear()
        return JSONResponse({"faults": []})
    return JSONResponse({"faults": [rule.to_doc() for rule in await ctx.faults.list()]})


async def fault(request: Request) -> Response:
    """DELETE `/__admin/faults/{id}`: remove one rule."""
    if not await context(request).faults.remove(request.path_params["fault_id"]):
        raise AdminError("no such fault", 404, "not_found")
    return Response(status_code=204)


async def scenarios(request: Request) -> Response:
    """GET: the named scenarios and their options."""
    listed = [
        {"name": s.name, "description": s.description, "options": list(s.options)} for s in SCENARIOS.values()
    ]
    return JSONResponse({"scenarios": listed})


async def scenario(request: Request) -> Response:
    """POST `/__admin/scenarios/{name}` with its options: play it."""
    name = request.path_params["name"]
    if name not in SCENARIOS:
        raise AdminError(f"unknown scenario {name!r}; scenarios: {', '.join(SCENARIOS)}", 404, "not_found")
    try:
        options = await json_body(request)
        checked(ScenarioOptions, options)  # the types; `play` checks which options its scenario takes
        result = await play(context(request), name, options)
    except FaultError as exc:
        raise AdminError(str(exc)) from exc
    return JSONResponse(result, status_code=201)
