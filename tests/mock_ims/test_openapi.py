"""`/openapi.json`: valid OpenAPI 3.1, complete, and true to what the mock answers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import BaseRoute, Route

from mock_ims.config import default_config
from mock_ims.control.admin.routes import admin_routes
from mock_ims.control.dashboard import dashboard_routes
from mock_ims.control.openapi import document
from mock_ims.endpoints.discovery import not_found
from mock_ims.endpoints.lightroom import lightroom_routes
from mock_ims.serving.app import create_app, ims_routes
from mock_ims.state.context import Context, Settings
from tests.conftest import BASE
from tests.helpers.flows import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorize_params,
    form_field,
    redeem,
    sign_in,
    tokens_for,
)
from tests.mock_ims.test_bad_requests import CASES, build, prepared

pytestmark = pytest.mark.anyio
DOC_URI = "urn:mock-ims:openapi"
FORM = "application/x-www-form-urlencoded"
AUTH = (CLIENT_ID, CLIENT_SECRET)


CONVERTER = re.compile(r"\{(\w+):\w+\}")


def operations_of(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """(path, method) of every route, HEAD aside (it is implied by GET, RFC 9110 §9.3.2).

    Paths are written as OpenAPI writes them: `{ref:path}` is the parameter `{ref}`."""
    operations = set()
    for route in routes:
        assert isinstance(route, Route)
        if route.endpoint is not_found:
            continue  # the catch-all: 404 for unknown paths, 405 for unknown methods
        for method in route.methods or ():
            if method != "HEAD":
                operations.add((CONVERTER.sub(r"{\1}", route.path), method.lower()))
    return operations


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


# ---- the document itself ---------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document(BASE)
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)


def test_every_ims_route_is_documented_with_exactly_its_methods() -> None:
    documented = documented_operations(document(BASE))
    assert operations_of(ims_routes()) <= documented
    ims_paths = {path for path, _ in operations_of(ims_routes())}
    assert {op for op in documented if op[0] in ims_paths} == operations_of(ims_routes())


def test_the_journal_is_documented_with_exactly_its_methods() -> None:
    documented = documented_operations(document(BASE))
    journal = {op for op in operations_of(admin_routes()) if op[0] == "/__admin/journal"}
    assert journal == {("/__admin/journal", "get"), ("/__admin/journal", "delete")}
    assert {op for op in documented if op[0] == "/__admin/journal"} == journal


@pytest.mark.parametrize(
    "routes",
    [admin_routes, lightroom_routes, dashboard_routes],
    ids=["admin API", "Lightroom stub", "dashboard"],
)
def test_every_route_of_a_group_is_documented_with_exactly_its_methods(
    routes: Callable[[], list[BaseRoute]],
) -> None:
    served = operations_of(routes())
    documented = documented_operations(document(BASE))
    assert {op for op in documented if op[0] in {path for path, _ in served}} == served


def test_every_route_the_app_serves_is_documented_and_nothing_else(ims_context: Context) -> None:
    app = create_app(ims_context.settings, context=ims_context)
    assert documented_operations(document(BASE)) == operations_of(list(app.routes))


def test_path_parameters_are_declared_for_every_templated_path() -> None:
    for path, item in document(BASE)["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for item in document(BASE)["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_security_schemes_are_basic_and_bearer() -> None:
    schemes = document(BASE)["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    token = document(BASE)["paths"]["/ims/token/v3"]["post"]
    assert {"basicAuth": []} in token["security"]
    assert {"bearerAuth": []} in document(BASE)["paths"]["/ims/userinfo/v2"]["get"]["security"]


def test_token_parameters_are_documented_in_the_query_and_both_body_types() -> None:
    post = document(BASE)["paths"]["/ims/token/v3"]["post"]
    query = {p["name"] for p in post["parameters"] if p["in"] == "query"}
    assert {"grant_type", "code", "code_verifier", "refresh_token", "client_id", "client_secret"} <= query
    content = post["requestBody"]["content"]
    for media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        assert set(content[media_type]["schema"]["properties"]) == query


async def test_the_served_document_names_the_server_it_came_from(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document(BASE)
    assert response.json()["servers"] == [{"url": BASE}]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/ims/undocumented", 404),
        ("GET", "/ims/token/v3/extra", 404),
        ("POST", "/ims/keys/v2", 404),
        ("PATCH", "/ims/token/v3", 405),
        ("PUT", "/ims/userinfo/v2", 405),
        ("DELETE", "/ims/logout/v1", 405),
        ("POST", "/openapi.json", 405),
        ("PUT", "/__admin/journal", 405),
        ("POST", "/.well-known/openid-configuration", 405),
    ],
)
async def test_what_is_not_documented_is_not_served(
    ims: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await ims.request(method, path)
    assert response.status_code == status
    if status == 405:
        assert response.headers["allow"]


# ---- the answers conform to it ----------------------------------------------------------------


class Conformance:
    """Checks answers against the document: status, media type, required headers, JSON schema."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
        self.seen: set[tuple[str, str, str]] = set()

    def template_of(self, path: str) -> str:
        """The documented path (`/__admin/users/{ref}`) a request's path falls under."""
        if path in self.doc["paths"]:
            return path
        for template in self.doc["paths"]:
            if "{" in template and re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)), path):
                return template
        return path

    def _resolve(self, obj: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        while "$ref" in obj:
            pointer = obj["$ref"].removeprefix("#")
            obj = self.doc
            for part in pointer.strip("/").split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj, pointer

    async def check(self, response: httpx.Response) -> None:
        await response.aread()
        method = response.request.method.lower()
        path = response.request.url.path
        if method == "head":
            return
        path = self.template_of(path)
        operation = self.doc["paths"].get(path, {}).get(method)
        if operation is None:
            assert response.status_code in (404, 405), f"{method} {path} is served but not documented"
            return
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        assert documented is not None, (
            f"{method} {path} answered {status}, not documented: {response.text[:300]}"
        )
        escaped = path.replace("~", "~0").replace("/", "~1")
        answer, pointer = self._resolve(documented, f"/paths/{escaped}/{method}/responses/{status}")
        for name, header in answer.get("headers", {}).items():
            header, _ = self._resolve(header, "")
            if header.get("required"):
                assert name.lower() in response.headers, f"{method} {path} {status}: no {name} header"
        content = answer.get("content", {})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not response.content and not media_type:
            assert not content, f"{method} {path} {status}: documented a body, answered none"
        else:
            assert media_type in content, f"{method} {path} {status}: {media_type!r} not documented"
            if media_type == "application/json":
                media = content[media_type]
                schema_pointer = f"{pointer}/content/{quote('application~1json', safe='~')}/schema"
                body = response.content
                if "x-json-prefix" in media:  # the Lightroom stub's `while (1) {}`
                    prefix = media["x-json-prefix"].encode()
                    assert body.startswith(prefix), f"{method} {path} {status}: no JSON prefix"
                    body = body[len(prefix) :]
                    schema_pointer = schema_pointer.replace("/schema", "/x-schema-after-prefix")
                validator = OAS31Validator({"$ref": f"{DOC_URI}#{schema_pointer}"}, registry=self.registry)
                errors = [e.message for e in validator.iter_errors(json.loads(body))]
                assert not errors, f"{method} {path} {status}: {errors}"
        self.seen.add((path, method, status))


@pytest.fixture
def conformance() -> Conformance:
    return Conformance(document(BASE))


@pytest.fixture
async def checked(ims_context: Context, conformance: Conformance) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every answer is checked against the document."""
    transport = httpx.ASGITransport(app=create_app(ims_context.settings, context=ims_context))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, event_hooks={"response": [conformance.check]}
    ) as client:
        yield client


async def normal_flow(ims: httpx.AsyncClient) -> None:
    for path in (
        "/ims/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
        "/ims/keys",
        "/openapi.json",
    ):
        assert (await ims.get(path)).status_code == 200
    for path in ("/ims/token/v3", "/ims/token/v2", "/ims/token/v1", "/ims/token"):
        callback = await sign_in(ims, prompt="login")
        assert (await redeem(ims, callback.code, path=path)).status_code == 200
    for path in ("/ims/authorize/v2", "/ims/authorize/v1", "/ims/authorize"):
        assert (await ims.get(path, params=authorize_params(prompt="login"))).status_code == 200
        assert (await ims.post(path, data=authorize_params(prompt="login"))).status_code == 200
        assert (await ims.get(path, params=authorize_params())).status_code == 302  # SSO
        assert (await ims.post(path, data=authorize_params())).status_code == 302
    tokens = await tokens_for(ims)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    for path in ("/ims/userinfo/v2", "/ims/userinfo/v1", "/ims/userinfo"):
        assert (await ims.get(path, headers=bearer)).status_code == 200
        assert (await ims.post(path, headers=bearer)).status_code == 200
    assert (await ims.get("/ims/profile/v1", headers=bearer)).status_code == 200
    refreshed = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=AUTH,
    )
    assert refreshed.status_code == 200
    assert (
        await ims.post("/ims/token/v1", data={"grant_type": "client_credentials"}, auth=AUTH)
    ).status_code == 200
    for method in ("GET", "POST"):
        params = {"token": tokens["access_token"], "client_id": CLIENT_ID}
        assert (await ims.request(method, "/ims/validate_token/v1", params=params)).json()["valid"] is True
        params = {"token": "x", "client_id": CLIENT_ID}
        assert (await ims.request(method, "/ims/validate_token/v1", params=params)).json()["valid"] is False
    revoked = await ims.post("/ims/revoke", data={"token": refreshed.json()["access_token"]}, auth=AUTH)
    assert revoked.status_code == 200
    signed_out = await ims.get(
        "/ims/logout/v1", params={"redirect_uri": "http://localhost:8000/bye", "client_id": CLIENT_ID}
    )
    assert signed_out.status_code == 302
    assert (await ims.get("/ims/logout/v1")).status_code == 200
    back_to = {"redirect_uri": "http://localhost:8000/bye", "client_id": CLIENT_ID}
    assert (await ims.post("/ims/logout/v1", data=back_to)).status_code == 302
    other = await tokens_for(ims)
    back = await ims.post("/ims/logout/v1", data={"access_token": other["access_token"]}, auth=AUTH)
    assert back.json() == {}
    assert (await ims.get("/__admin/journal", params={"limit": "5"})).status_code == 200
    assert (await ims.delete("/__admin/journal")).status_code == 200


async def refusals(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims, scope="AdobeID,lr_partner_apis")
    no_openid = {"Authorization": f"Bearer {tokens['access_token']}"}
    for path in ("/ims/userinfo/v2", "/ims/userinfo/v1", "/ims/userinfo"):
        assert (await ims.get(path, headers=no_openid)).status_code == 403
        assert (await ims.post(path, headers=no_openid)).status_code == 403
        assert (await ims.get(path)).status_code == 401
        assert (await ims.post(path, data={"access_token": "x"})).status_code == 401
    for path in ("/ims/userinfo/v2", "/ims/profile/v1"):
        assert (await ims.get(path)).status_code == 401
        assert (await ims.get(path, headers={"Authorization": "Bearer x"})).status_code == 401
    for path in ("/ims/token/v3", "/ims/token/v2", "/ims/token/v1", "/ims/token", "/ims/revoke"):
        assert (await ims.get(path)).status_code == 405
    assert (await ims.post("/ims/token/v3", data={"grant_type": "password"}, auth=AUTH)).status_code == 400
    for path in ("/ims/authorize/v2", "/ims/authorize/v1", "/ims/authorize"):
        assert (await ims.get(path, params=authorize_params(client_id="nobody"))).status_code == 400
        assert (await ims.post(path, data=authorize_params(client_id="nobody"))).status_code == 400
        assert (await ims.get(path, params=authorize_params(scope="openid,nope"))).status_code == 302
        assert (await ims.get(path, params=authorize_params(prompt="none"))).status_code == 302
    page = await ims.get("/ims/authorize/v2", params=authorize_params(prompt="login"))
    form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
    assert (
        await ims.post("/ims/login", data={**form, "email": "bob@example.com", "password": "x"})
    ).status_code == 200
    assert (
        await ims.post("/ims/login", data={**form, "csrf": "y" * 32, "user": "bob@example.com"})
    ).status_code == 403
    assert (await ims.post("/ims/login", data={**form, "action": "deny"})).status_code == 302
    assert (await ims.post("/ims/login", data={**form, "action": "deny"})).status_code == 400
    assert (
        await ims.post("/ims/login", content=b"x" * 70_000, headers={"content-type": FORM})
    ).status_code == 413
    for path in ("/ims/logout/v1", "/ims/validate_token/v1", "/ims/revoke", "/ims/userinfo/v2"):
        assert (
            await ims.post(path, content=b"x" * 70_000, headers={"content-type": FORM})
        ).status_code == 413
    assert (
        await ims.post("/ims/logout/v1", data={"client_id": CLIENT_ID, "client_secret": "wrong"})
    ).status_code == 400
    assert (await ims.get("/ims/validate_token/v1")).status_code == 400
    assert (await ims.get("/__admin/journal", params={"limit": "x"})).status_code == 400
    for path in ("/ims/keys", "/ims/.well-known/openid-configuration", "/.well-known/openid-configuration"):
        assert (await ims.get(path, params={"k": "\x00"})).status_code == 400


# Path parameters that name something that exists, so the answer gets as far as the body.
SAMPLE_PATH_PARAMETERS = {
    "ref": "alice@example.com",
    "client_id": CLIENT_ID,
    "fault_id": "no-such-fault",
    "name": "ims-down",
    "lease_id": "no-such-lease",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_PARAMETERS[m.group(1)], path)


async def generic_refusals(ims: httpx.AsyncClient) -> None:
    """Invalid UTF-8 in the query (400) and a body over the limit (64 KiB for IMS endpoints,
    256 KiB for the admin API: 413), wherever documented."""
    for path, item in document(BASE)["paths"].items():
        for method, operation in item.items():
            if "400" in operation["responses"] and not path.startswith("/__admin/"):
                url = httpx.URL(BASE + path).copy_with(query=b"x=%ff")
                assert (await ims.request(method, url)).status_code == 400, (method, path)
            if "413" in operation["responses"]:
                size = 300_000 if path.startswith("/__admin/") else 70_000
                too_big = await ims.request(
                    method, concrete(path), content=b"x" * size, headers={"content-type": FORM}
                )
                assert too_big.status_code == 413, (method, path)


async def admin_token_refusals(conformance: Conformance) -> None:
    """Every operation behind --admin-token, asked without it; the journal with it."""
    ctx = Context(Settings(default_config(), admin_token="admin-secret"))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    hooks = {"response": [conformance.check]}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, event_hooks=hooks) as client:
        for path, item in document(BASE)["paths"].items():
            for method, operation in item.items():
                if "401" in operation["responses"] and {"adminToken": []} in operation["security"]:
                    answer = await client.request(method, concrete(path))
                    assert answer.status_code == 401, (method, path)
        headers = {"Authorization": "Bearer admin-secret"}
        assert (await client.get("/__admin/journal", headers=headers)).status_code == 200


async def control_plane(ims: httpx.AsyncClient) -> None:
    """Every control-plane operation, answering as asked and refusing."""
    for method in ("GET", "DELETE"):
        assert (await ims.request(method, "/__admin/clock")).status_code == 200
    assert (await ims.post("/__admin/clock", json={"advance": 60})).status_code == 200
    assert (await ims.post("/__admin/clock", json={"set": "2030-01-01T00:00:00Z"})).status_code == 200
    assert (await ims.post("/__admin/clock", json={"set": "3000-01-01T00:00:00Z"})).status_code == 400
    assert (await ims.delete("/__admin/clock")).status_code == 200

    assert (await ims.get("/__admin/faults")).status_code == 200
    rule = await ims.post("/__admin/faults", json={"endpoint": "keys", "status": 503, "times": 1})
    assert rule.status_code == 201
    assert (await ims.post("/__admin/faults", json={"endpoint": "keys"})).status_code == 400
    assert (await ims.delete(f"/__admin/faults/{rule.json()['id']}")).status_code == 204
    assert (await ims.delete("/__admin/faults/gone")).status_code == 404
    assert (await ims.get("/__admin/scenarios")).status_code == 200
    assert (await ims.post("/__admin/scenarios/ims-down", json={"times": 1})).status_code == 201
    assert (await ims.post("/__admin/scenarios/ims-down", json={"delay": 1})).status_code == 400
    assert (await ims.post("/__admin/scenarios/nothing", json={})).status_code == 404
    assert (await ims.delete("/__admin/faults")).status_code == 200

    dave = {"email": "dave@example.com", "password": "dave-pass"}
    assert (await ims.get("/__admin/users")).status_code == 200
    assert (await ims.post("/__admin/users", json=dave)).status_code == 201
    assert (await ims.post("/__admin/users", json=dave)).status_code == 409
    assert (await ims.post("/__admin/users", json={"email": "x"})).status_code == 400
    assert (await ims.get("/__admin/users/dave@example.com")).status_code == 200
    assert (await ims.get("/__admin/users/nobody")).status_code == 404
    assert (await ims.put("/__admin/users/dave@example.com", json=dave)).status_code == 200
    assert (await ims.put("/__admin/users/nobody", json=dave)).status_code == 404
    assert (await ims.put("/__admin/users/dave@example.com", json={"email": "x"})).status_code == 400
    taken = {**dave, "email": "alice@example.com"}
    assert (await ims.put("/__admin/users/dave@example.com", json=taken)).status_code == 409
    assert (await ims.patch("/__admin/users/dave@example.com", json={"last_name": "D"})).status_code == 200
    assert (await ims.patch("/__admin/users/nobody", json={})).status_code == 404
    assert (await ims.patch("/__admin/users/dave@example.com", json={"entitlement": "x"})).status_code == 400
    taken_patch = {"email": "bob@example.com"}
    assert (await ims.patch("/__admin/users/dave@example.com", json=taken_patch)).status_code == 409
    assert (await ims.delete("/__admin/users/dave@example.com")).status_code == 204
    assert (await ims.delete("/__admin/users/dave@example.com")).status_code == 404

    app = {"client_id": "app-2", "redirect_uris": ["http://localhost/cb"]}
    assert (await ims.get("/__admin/clients")).status_code == 200
    assert (await ims.post("/__admin/clients", json=app)).status_code == 201
    assert (await ims.post("/__admin/clients", json=app)).status_code == 409
    assert (await ims.post("/__admin/clients", json={"client_id": ""})).status_code == 400
    assert (await ims.get("/__admin/clients/app-2")).status_code == 200
    assert (await ims.get("/__admin/clients/nobody")).status_code == 404
    assert (await ims.put("/__admin/clients/app-2", json=app)).status_code == 200
    assert (await ims.put("/__admin/clients/nobody", json=app)).status_code == 404
    assert (await ims.put("/__admin/clients/app-2", json={"scopes": 1})).status_code == 400
    assert (await ims.patch("/__admin/clients/app-2", json={"name": "Two"})).status_code == 200
    assert (await ims.patch("/__admin/clients/nobody", json={})).status_code == 404
    assert (await ims.patch("/__admin/clients/app-2", json={"grant_types": ["x"]})).status_code == 400
    assert (await ims.delete("/__admin/clients/app-2")).status_code == 204
    assert (await ims.delete("/__admin/clients/app-2")).status_code == 404

    minted = await ims.post("/__admin/tokens", json={"kind": "refresh_token", "user": "alice@example.com"})
    assert minted.status_code == 201
    code = {"kind": "authorization_code", "user": "bob@example.com", "redirect_uri": "http://localhost/cb"}
    assert (await ims.post("/__admin/tokens", json=code)).status_code == 201
    assert (await ims.post("/__admin/tokens", json={"kind": "access_token"})).status_code == 201
    assert (await ims.post("/__admin/tokens", json={"kind": "x"})).status_code == 400
    assert (await ims.post("/__admin/tokens", json={"kind": "access_token", "user": "x"})).status_code == 404
    assert (await ims.get("/__admin/tokens", params={"live": "true"})).status_code == 200
    assert (await ims.get("/__admin/tokens", params={"kind": "x"})).status_code == 400
    revoked = await ims.post("/__admin/tokens/revoke", json={"token": minted.json()["token"]})
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] == [minted.json()["id"]]
    assert (await ims.post("/__admin/tokens/revoke", json={})).status_code == 400
    assert (await ims.get("/__admin/stats")).status_code == 200
    assert (await ims.post("/__admin/reset")).status_code == 200

    assert (await ims.get("/__admin/lease")).status_code == 200
    taken = await ims.post("/__admin/lease", json={"holder": "first", "ttl": 60})
    assert taken.status_code == 201
    lease = f"/__admin/lease/{taken.json()['id']}"
    assert (await ims.get("/__admin/lease")).status_code == 200
    assert (await ims.post("/__admin/lease", json={"holder": "second"})).status_code == 409
    assert (await ims.post("/__admin/lease", json={"holder": "second", "ttl": 0})).status_code == 400
    assert (await ims.put(lease, json={"ttl": 30})).status_code == 200
    assert (await ims.put(lease, json={"ttl": "long"})).status_code == 400
    assert (await ims.put("/__admin/lease/someone-else")).status_code == 409
    assert (await ims.delete("/__admin/lease/someone-else")).status_code == 409
    assert (await ims.delete(lease)).status_code == 204
    assert (await ims.put(lease)).status_code == 404
    assert (await ims.delete(lease)).status_code == 404


async def lightroom(ims: httpx.AsyncClient) -> None:
    """The Lightroom stub's answers, refusals included."""
    key = {"X-API-Key": CLIENT_ID}
    assert (await ims.get("/v2/health", headers=key)).status_code == 200
    assert (await ims.get("/v2/health")).status_code == 403
    bad_query = httpx.URL(BASE + "/v2/health").copy_with(query=b"x=%ff")
    assert (await ims.get(bad_query, headers=key)).status_code == 400
    tokens = await tokens_for(ims)
    bearer = {**key, "Authorization": f"Bearer {tokens['access_token']}"}
    for path in ("/v2/account", "/v2/catalog"):
        assert (await ims.get(path, headers=bearer)).status_code == 200
        assert (await ims.get(path, headers=key)).status_code == 401
        assert (await ims.get(path, headers={**bearer, "X-API-Key": "nobody"})).status_code == 403
        bad_query = httpx.URL(BASE + path).copy_with(query=b"x=%ff")
        assert (await ims.get(bad_query, headers=bearer)).status_code == 400


async def dashboard(ims: httpx.AsyncClient) -> None:
    """The dashboard page and its buttons, refusals included."""
    page = await ims.get("/")
    assert page.status_code == 200
    form = {"csrf": form_field(page.text, "csrf"), "return_to": "endpoint=token"}
    assert (await ims.post("/__admin/ui/clock", data={**form, "seconds": "60"})).status_code == 303
    assert (await ims.post("/__admin/ui/clock", data={**form, "seconds": "soon"})).status_code == 400
    assert (await ims.post("/__admin/ui/clear-journal", data=form)).status_code == 303
    for path in ("/__admin/ui/clock", "/__admin/ui/clear-journal"):
        forged = {**form, "csrf": "forged-" * 4, "seconds": "1"}
        assert (await ims.post(path, data=forged)).status_code == 403
        bad = await ims.post(path, content=b"csrf=%ff", headers={"content-type": FORM})
        assert bad.status_code == 400


async def malformed(ims: httpx.AsyncClient) -> None:
    for case in CASES.values():
        await ims.send(build(ims, await prepared(ims, case)))
        if case.prepare is not None:  # it moved the clock or added a client
            assert (await ims.post("/__admin/reset")).status_code == 200


async def test_the_answers_of_a_normal_flow_conform(checked: httpx.AsyncClient) -> None:
    await normal_flow(checked)


async def test_the_answers_of_refusals_conform(checked: httpx.AsyncClient, conformance: Conformance) -> None:
    await refusals(checked)
    await admin_token_refusals(conformance)


async def test_the_answers_of_the_control_plane_conform(checked: httpx.AsyncClient) -> None:
    await control_plane(checked)


async def test_the_answers_of_the_lightroom_stub_conform(checked: httpx.AsyncClient) -> None:
    await lightroom(checked)


async def test_the_answers_of_the_dashboard_conform(checked: httpx.AsyncClient) -> None:
    await dashboard(checked)


async def test_the_answers_to_malformed_requests_conform(checked: httpx.AsyncClient) -> None:
    await generic_refusals(checked)
    await malformed(checked)


async def test_these_checks_reach_every_documented_operation_and_status(
    checked: httpx.AsyncClient, conformance: Conformance
) -> None:
    for flow in (normal_flow, refusals, generic_refusals, malformed, control_plane, lightroom, dashboard):
        await flow(checked)
    await admin_token_refusals(conformance)
    doc = document(BASE)
    documented = {
        (path, method, status)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }
    missing = sorted(documented - conformance.seen)
    assert not missing, "\n".join(map(str, missing))
