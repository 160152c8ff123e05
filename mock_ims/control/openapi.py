"""`/openapi.json`: the OpenAPI 3.1 description of every route the mock serves, generated.

Schemas come from the models (`mock_ims.protocol.bodies`, `mock_ims.protocol.answers`), the
control plane's operations from its route table (`mock_ims.control.admin.routes.API`); the IMS
endpoints, the dashboard and the Lightroom stub are described by the small tables below.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.routes import API, Answer, Op
from mock_ims.control.openapi_ims import (
    COMPONENT_RESPONSES,
    DESCRIPTION,
    QUERIES,
    SECURITY_SCHEMES,
    TAGS,
    header,
    ims_operations,
)
from mock_ims.protocol import answers as a
from mock_ims.protocol import bodies as b
from mock_ims.version import __version__

Schema = dict[str, Any]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
ADMIN_SECURITY: list[dict[str, list[str]]] = [{"adminToken": []}, {}]
LIGHTROOM_PREFIX = "while (1) {}\n"

REQUESTS: tuple[type[BaseModel], ...] = (
    b.ClockChange, b.FaultRequest, b.ScenarioOptions, b.UserRequest, b.UserPatch, b.ClientRequest,
    b.ClientReplacement, b.ClientPatch, b.MintRequest, b.RevokeRequest, b.LeaseRequest, b.LeaseRenewal,
)  # fmt: skip
ANSWERS: tuple[type[BaseModel], ...] = (
    b.AdminError, b.Clock, b.FaultRules, b.ScenarioList, b.ScenarioResult, b.Users, b.Clients, b.TokenList,
    b.Minted, b.Revoked, b.Lease, b.LeaseStatus, b.LeaseHeld, b.Stats, b.Journal, b.Cleared, b.Reset,
    a.OAuthError, a.TokenResponse, a.TokenResponseV1, a.UserInfo, a.Profile, a.ValidateTokenResult, a.JWKS,
    a.OpenIDConfiguration, a.LightroomError, a.LightroomHealth, a.LightroomAccount, a.LightroomCatalog,
)  # fmt: skip


def ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def _clean(node: Any, *, answer: bool) -> Any:
    """Drop pydantic's titles (and, in answers, defaults: an answer always carries its fields)."""
    if isinstance(node, list):
        return [_clean(item, answer=answer) for item in node]
    if not isinstance(node, dict):
        return node
    drop = {"title"} | ({"default"} if answer else set())
    if node.get("default", ...) is None and isinstance(node.get("type"), str):
        drop.add("default")  # a field left out keeps a value the body may not send (a patch)
    return {
        key: _clean(value, answer=answer)
        for key, value in node.items()
        if not (key in drop and not isinstance(value, dict))
    }


def schemas() -> dict[str, Schema]:
    template = "#/components/schemas/{model}"
    _, requests = models_json_schema([(m, "validation") for m in REQUESTS], ref_template=template)
    _, answers = models_json_schema([(m, "serialization") for m in ANSWERS], ref_template=template)
    found = {name: _clean(s, answer=False) for name, s in requests["$defs"].items()}
    found.update({name: _clean(s, answer=True) for name, s in answers["$defs"].items()})
    return dict(sorted(found.items()))


def json_content(schema: Schema) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def response(
    description: str, *, content: dict[str, Any] | None = None, headers: Schema | None = None
) -> Schema:
    answer: Schema = {"description": description}
    if headers:
        answer["headers"] = headers
    if content:
        answer["content"] = content
    return answer


def parameters(table: str, where: str = "query", required: tuple[str, ...] = ()) -> list[Schema]:
    return [
        {"name": name, "in": where, "required": name in required, "description": desc, "schema": schema}
        for name, (schema, desc) in QUERIES[table].items()
    ]


def form_body(table: str, description: str) -> Schema:
    """The same fields as a urlencoded or a multipart body (plain fields, no files)."""
    schema = {
        "type": "object",
        "properties": {name: {**s, "description": d} for name, (s, d) in QUERIES[table].items()},
    }
    return {
        "required": False,
        "description": description,
        "content": {FORM: {"schema": schema}, MULTIPART: {"schema": schema}},
    }


# ---- the control plane, from its route table ---------------------------------------------------


def admin_answer(answer: Answer | str) -> Schema:
    if isinstance(answer, str):
        return ref("responses", answer)
    headers = {"Location": header(answer.location, required=True)} if answer.location else None
    content = json_content(ref("schemas", answer.model.__name__)) if answer.model else None
    return response(answer.description, content=content, headers=headers)


def admin_operation(name: str, method: str, op: Op, path_parameters: dict[str, str]) -> Schema:
    operation: Schema = {
        "operationId": f"admin_{name}_{method}",
        "tags": ["admin"],
        "summary": op.summary,
        "security": ADMIN_SECURITY,
        "responses": {str(status): admin_answer(answer) for status, answer in op.answers.items()},
    }
    if op.description:
        operation["description"] = op.description
    params = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "description": d,
            "schema": {"type": "string", "minLength": 1},
        }
        for p, d in path_parameters.items()
    ]
    if op.query:
        params += parameters(op.query)
    if params:
        operation["parameters"] = params
    if op.body is not None:
        # The body is read as JSON whatever its Content-Type (an empty one is `{}`).
        operation["requestBody"] = {
            "required": op.body_required,
            "content": json_content(ref("schemas", op.body.__name__)),
        }
        operation["responses"].setdefault("400", ref("responses", "AdminError"))
        operation["responses"]["413"] = ref("responses", "AdminTooLarge")
    operation["responses"]["401"] = ref("responses", "AdminUnauthorized")
    return operation


def admin_paths() -> dict[str, dict[str, Schema]]:
    paths: dict[str, dict[str, Schema]] = {}
    for api in API:
        for method, op in api.ops.items():
            operation = admin_operation(api.name, method, op, dict(api.parameters))
            paths.setdefault(api.path, {})[method] = operation
    return paths


# ---- the IMS endpoints, the dashboard and the Lightroom stub, from their table -----------------


def lightroom_content(schema_name: str, example: str) -> Schema:
    """JSON behind Lightroom's `while (1) {}` prefix: not a JSON document as such, so the schema
    of what follows the prefix is given in `x-schema-after-prefix`, not as `schema`."""
    return {
        JSON: {
            "x-json-prefix": LIGHTROOM_PREFIX,
            "x-schema-after-prefix": ref("schemas", schema_name),
            "example": f"{LIGHTROOM_PREFIX}{example}",
        }
    }


def ims_response(spec: Any) -> Schema:
    """A response of the table: a shared one's name, or (description, content, headers)."""
    if isinstance(spec, str):
        return ref("responses", spec)
    description, content, headers = spec
    if isinstance(content, str) and content.startswith("lightroom:"):
        name, _, example = content.removeprefix("lightroom:").partition(" ")
        content = lightroom_content(name, example)
    elif isinstance(content, str):
        content = json_content(ref("schemas", content))
    return response(description, content=content, headers=headers)


def ims_operation(path: str, method: str, spec: dict[str, Any]) -> Schema:
    operation: Schema = {"operationId": spec["id"], "tags": [spec["tag"]], "summary": spec["summary"]}
    for key in ("description", "security"):
        if key in spec:
            operation[key] = spec[key]
    params: list[Schema] = []
    if "fields" in spec and spec.get("query_fields", True):
        params += parameters(spec["fields"], required=spec.get("required", ()))
    params += spec.get("parameters", [])
    if params:
        operation["parameters"] = params
    if "form" in spec:
        operation["requestBody"] = form_body(spec["fields"], spec["form"])
    operation["responses"] = {str(status): ims_response(r) for status, r in spec["responses"].items()}
    return operation


def ims_paths() -> dict[str, dict[str, Schema]]:
    paths: dict[str, dict[str, Schema]] = {}
    for path, method, spec in ims_operations():
        paths.setdefault(path, {})[method] = ims_operation(path, method, spec)
    return paths


def components() -> Schema:
    return {
        "securitySchemes": SECURITY_SCHEMES,
        "headers": {
            "CacheControl": {"description": "Caching directives.", "schema": {"type": "string"}},
            "SetCookie": {
                "description": "The mock's session or CSRF cookie (path /ims).",
                "schema": {"type": "string"},
            },
        },
        "schemas": schemas(),
        "responses": {name: ims_response(spec) for name, spec in COMPONENT_RESPONSES.items()},
    }


def all_paths() -> dict[str, dict[str, Schema]]:
    paths = ims_paths()
    for path, operations in admin_paths().items():
        if path in paths:
            raise ValueError(f"{path} is described twice")
        paths[path] = operations
    return paths


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document for a mock reached at `base_url`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "mock-ims", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "tags": TAGS,
        "paths": all_paths(),
        "components": components(),
    }


@functools.lru_cache(maxsize=16)
def _rendered(base_url: str) -> bytes:
    return bytes(JSONResponse(document(base_url)).body)


async def openapi(request: Request) -> Response:
    """This document, rendered once per base URL."""
    base = request.app.state.ims.base_url(request)
    return Response(_rendered(base), media_type=JSON)
