"""The `id-token-tampered` scenario: the next ID token is wrong in exactly one way a relying party
must catch (OIDC Core §3.1.3.7), and the journal shows which answer carried it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_ims.protocol import jws
from mock_ims.protocol.tokens import FOREIGN_AUDIENCE, FOREIGN_ISSUER
from tests.helpers.flows import CLIENT_ID, tokens_for

pytestmark = pytest.mark.anyio


async def keys(ims: httpx.AsyncClient) -> dict[str, rsa.RSAPublicKey]:
    """The keys `/ims/keys` publishes, as a relying party reads them."""

    def number(value: str) -> int:
        return int.from_bytes(jws.b64url_decode(value), "big")

    jwks = (await ims.get("/ims/keys")).json()["keys"]
    return {k["kid"]: rsa.RSAPublicNumbers(number(k["e"]), number(k["n"])).public_key() for k in jwks}


async def tamper(ims: httpx.AsyncClient, how: str, **options: Any) -> dict[str, Any]:
    answer = await ims.post("/__admin/scenarios/id-token-tampered", json={"how": how, **options})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_untampered_id_token_verifies_and_matches_the_request(ims: httpx.AsyncClient) -> None:
    claims = jws.verify((await tokens_for(ims))["id_token"], await keys(ims))[1]
    assert (claims["aud"], claims["nonce"]) == (CLIENT_ID, "nonce-456")
    assert claims["exp"] > time.time()


@pytest.mark.parametrize(
    ("how", "wrong"),
    [
        ("audience", ("aud", FOREIGN_AUDIENCE)),
        ("issuer", ("iss", FOREIGN_ISSUER)),
        ("nonce", ("nonce", "not-the-nonce-sent-")),
    ],
)
async def test_a_tampered_claim_is_wrong_in_that_one_way_and_still_signed(
    ims: httpx.AsyncClient, how: str, wrong: tuple[str, str]
) -> None:
    honest = jws.verify((await tokens_for(ims))["id_token"], await keys(ims))[1]
    await tamper(ims, how)
    claims = jws.verify((await tokens_for(ims))["id_token"], await keys(ims))[1]
    name, value = wrong
    assert str(claims[name]).startswith(value)
    assert {k: v for k, v in claims.items() if k not in (name, "iat", "exp", "auth_time", "at_hash")} == {
        k: v for k, v in honest.items() if k not in (name, "iat", "exp", "auth_time", "at_hash")
    }


async def test_an_expired_id_token_expired_an_hour_ago(ims: httpx.AsyncClient) -> None:
    await tamper(ims, "expired")
    claims = jws.verify((await tokens_for(ims))["id_token"], await keys(ims))[1]
    assert claims["exp"] < time.time() - 3000
    assert claims["iat"] < claims["exp"]


async def test_a_forged_signature_names_the_real_key_but_no_published_key_verifies_it(
    ims: httpx.AsyncClient,
) -> None:
    await tamper(ims, "signature")
    forged = (await tokens_for(ims))["id_token"]
    header, claims = jws.unverified(forged)
    assert header["kid"] in await keys(ims)
    assert claims["aud"] == CLIENT_ID
    with pytest.raises(jws.JWSError):
        jws.verify(forged, await keys(ims))


async def test_only_the_next_sign_in_is_tampered_and_its_journal_entry_shows_the_token(
    ims: httpx.AsyncClient,
) -> None:
    played = await tamper(ims, "audience")
    await tokens_for(ims)
    honest = jws.unverified((await tokens_for(ims))["id_token"])[1]
    assert honest["aud"] == CLIENT_ID
    entries = (await ims.get("/__admin/journal", params={"endpoint": "token"})).json()["entries"]
    tampered = [e for e in entries if e["tampered_id_token"] is not None]
    assert len(tampered) == 1
    assert tampered[0]["fault"] == played["faults"][0]["id"]
    assert tampered[0]["outcome"] == "ok"
    assert tampered[0]["tampered_id_token"]["how"] == "audience"
    assert tampered[0]["tampered_id_token"]["claims"]["aud"] == FOREIGN_AUDIENCE
    assert (await ims.get("/__admin/faults")).json()["faults"] == []


async def test_another_clients_sign_in_is_left_alone(ims: httpx.AsyncClient) -> None:
    await tamper(ims, "issuer", client_id="someone-else")
    claims = jws.unverified((await tokens_for(ims))["id_token"])[1]
    assert claims["iss"] != FOREIGN_ISSUER
    assert len((await ims.get("/__admin/faults")).json()["faults"]) == 1


async def test_every_endpoint_rule_does_not_reach_the_id_token(ims: httpx.AsyncClient) -> None:
    # "*" is every IMS endpoint; the ID token is a step inside the token endpoint's answer.
    rule = await ims.post("/__admin/faults", json={"endpoint": "*", "delay": 0.01})
    assert rule.status_code == 201
    assert "id_token" in await tokens_for(ims)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"how": "colour"}, "how: 'colour' is not one of signature, audience, issuer, expired, nonce"),
        ({}, "how: required, one of signature, audience, issuer, expired, nonce"),
        ({"how": "nonce", "user": "alice@example.com"}, "unknown option 'user'"),
    ],
)
async def test_a_bad_scenario_request_names_the_option(
    ims: httpx.AsyncClient, body: dict[str, Any], says: str
) -> None:
    answer = await ims.post("/__admin/scenarios/id-token-tampered", json=body)
    assert answer.status_code == 400
    assert says in answer.json()["detail"]


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"endpoint": "id_token", "status": 500}, "the endpoint id_token and the id_token field go together"),
        (
            {"endpoint": "token", "id_token": "nonce"},
            "the endpoint id_token and the id_token field go together",
        ),
    ],
)
async def test_an_id_token_rule_needs_both_its_endpoint_and_its_effect(
    ims: httpx.AsyncClient, rule: dict[str, Any], says: str
) -> None:
    answer = await ims.post("/__admin/faults", json=rule)
    assert answer.status_code == 400
    assert says in answer.json()["detail"]
