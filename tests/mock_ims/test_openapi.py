"""`/openapi.json`: valid OpenAPI 3.1, complete, and true to what the mock answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import BaseRoute, Route

from mock_ims.admin.routes import admin_routes
from mock_ims.app import create_app, ims_routes
from mock_ims.config import default_config
from mock_ims.context import Context, Settings
from mock_ims.endpoints.discovery import not_found
from mock_ims.openapi import document
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
from tests.mock_ims.test_bad_requests import CASES, build

pytestmark = pytest.mark.anyio
DOC_URI = "urn:mock-ims:openapi"
FORM = "application/x-www-form-urlencoded"
AUTH = (CLIENT_ID, CLIENT_SECRET)


def operations_of(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """(path, method) of every route, HEAD aside (it is implied by GET, RFC 9110 §9.3.2)."""
    operations = set()
    for route in routes:
        assert isinstance(route, Route)
        if route.endpoint is not_found:
            continue  # the catch-all: 404 for unknown paths, 405 for unknown methods
        for method in route.methods or ():
            if method != "HEAD":
                operations.add((route.path, method.lower()))
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


def test_everything_documented_is_served(ims_context: Context) -> None:
    app = create_app(ims_context.settings, context=ims_context)
    assert documented_operations(document(BASE)) <= operations_of(list(app.routes))


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
                schema_pointer = f"{pointer}/content/{quote('application~1json', safe='~')}/schema"
                validator = OAS31Validator({"$ref": f"{DOC_URI}#{schema_pointer}"}, registry=self.registry)
                errors = [e.message for e in validator.iter_errors(response.json())]
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


async def generic_refusals(ims: httpx.AsyncClient) -> None:
    """Invalid UTF-8 in the query (400) and a body over 64 KiB (413), wherever documented."""
    for path, item in document(BASE)["paths"].items():
        for method, operation in item.items():
            if "400" in operation["responses"] and not path.startswith("/__admin/"):
                url = httpx.URL(BASE + path).copy_with(query=b"x=%ff")
                assert (await ims.request(method, url)).status_code == 400, (method, path)
            if "413" in operation["responses"]:
                too_big = await ims.request(
                    method, path, content=b"x" * 70_000, headers={"content-type": FORM}
                )
                assert too_big.status_code == 413, (method, path)


async def admin_token_refusals(conformance: Conformance) -> None:
    """The journal behind --admin-token, asked without it."""
    ctx = Context(Settings(default_config(), admin_token="admin-secret"))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    hooks = {"response": [conformance.check]}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, event_hooks=hooks) as client:
        for method in ("GET", "DELETE"):
            assert (await client.request(method, "/__admin/journal")).status_code == 401
        headers = {"Authorization": "Bearer admin-secret"}
        assert (await client.get("/__admin/journal", headers=headers)).status_code == 200


async def malformed(ims: httpx.AsyncClient) -> None:
    for case in CASES.values():
        await ims.send(build(ims, case))


async def test_the_answers_of_a_normal_flow_conform(checked: httpx.AsyncClient) -> None:
    await normal_flow(checked)


async def test_the_answers_of_refusals_conform(checked: httpx.AsyncClient, conformance: Conformance) -> None:
    await refusals(checked)
    await admin_token_refusals(conformance)


async def test_the_answers_to_malformed_requests_conform(checked: httpx.AsyncClient) -> None:
    await generic_refusals(checked)
    await malformed(checked)


async def test_these_checks_reach_every_documented_operation_and_status(
    checked: httpx.AsyncClient, conformance: Conformance
) -> None:
    for flow in (normal_flow, refusals, generic_refusals, malformed):
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
