"""Fault injection and named scenarios, played against a real server through the Python handle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_ims import AdminAPIError, MockIMS
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, authorize_params

AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture(scope="module")
def server() -> Iterator[MockIMS]:
    with MockIMS.running() as ims:
        yield ims


@pytest.fixture
def ims(server: MockIMS) -> MockIMS:
    server.reset()
    return server


def client_credentials(ims: MockIMS, **kwargs: Any) -> httpx.Response:
    return httpx.post(
        f"{ims.url}/ims/token/v3", data={"grant_type": "client_credentials"}, auth=AUTH, **kwargs
    )


def wait_for_entries(ims: MockIMS, endpoint: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        entries = ims.journal.entries(endpoint)
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


def test_the_next_n_calls_answer_the_given_status_and_body(ims: MockIMS) -> None:
    ims.faults.add(
        "token", status=429, body={"error": "too_many_requests"}, headers={"Retry-After": "7"}, times=2
    )
    answers = [client_credentials(ims) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json() == {"error": "too_many_requests"}
    assert answers[0].headers["retry-after"] == "7"
    assert ims.faults.list() == []  # an exhausted rule is gone
    assert [e["outcome"] for e in ims.journal.entries("token")] == ["fault", "fault", "ok"]


def test_a_rule_without_times_applies_until_removed(ims: MockIMS) -> None:
    rule = ims.faults.add("keys", status=503, body="down for maintenance")
    assert httpx.get(f"{ims.url}/ims/keys").status_code == 503
    assert httpx.get(f"{ims.url}/ims/keys").text == "down for maintenance"
    ims.faults.remove(rule["id"])
    assert httpx.get(f"{ims.url}/ims/keys").status_code == 200


def test_rules_can_match_a_client_or_a_grant_type(ims: MockIMS) -> None:
    ims.faults.add("token", status=500, grant_type="refresh_token")
    ims.faults.add("token", status=401, client_id="someone-else")
    assert client_credentials(ims).status_code == 200
    refresh = httpx.post(
        f"{ims.url}/ims/token/v3", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=AUTH
    )
    assert refresh.status_code == 500


def test_a_delay_answers_normally_afterwards_and_is_journalled(ims: MockIMS) -> None:
    ims.faults.add("token", delay=0.2, times=1)
    assert client_credentials(ims).status_code == 200
    entry = ims.journal.entries("token")[0]
    assert entry["outcome"] == "ok"
    assert any(note.startswith("delayed 0.2s") for note in entry["notes"])


def test_a_hang_never_answers_until_the_client_gives_up(ims: MockIMS) -> None:
    ims.faults.add("token", hang=True, times=1)
    with pytest.raises(httpx.ReadTimeout):
        client_credentials(ims, timeout=0.5)
    entries = wait_for_entries(ims, "token", 1)
    assert entries[0]["outcome"] == "fault"
    assert client_credentials(ims).status_code == 200


def test_bad_rules_are_refused_with_the_field_named(ims: MockIMS) -> None:
    with pytest.raises(AdminAPIError) as error:
        ims.faults.add("token", status=99)
    assert "status" in error.value.detail
    with pytest.raises(AdminAPIError) as error:
        ims.faults.add("token")
    assert "effect" in error.value.detail


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"status": 101}, "status: must be an HTTP status code (200-599)"),
        ({"status": 503, "headers": {"Bad Name": "x"}}, "'Bad Name' is not a valid header name"),
        ({"status": 503, "headers": {"X-A": "a\x00b"}}, "the value of X-A has line breaks or control"),
        ({"status": 503, "headers": {"X-A": "a\r\nSet-Cookie: x=1"}}, "has line breaks"),
        ({"status": 503, "headers": {"X-A": "\u20ac"}}, "has line breaks or control characters"),
        ({"status": 503, "headers": {"Content-Length": "999"}}, "Content-Length frames the message"),
        ({"status": 503, "headers": {"transfer-encoding": "chunked"}}, "frames the message"),
    ],
)
def test_a_rule_the_server_could_not_send_is_refused(ims: MockIMS, fields: dict[str, Any], says: str) -> None:
    # Each of these was accepted, and then broke the answer of every call it matched.
    with pytest.raises(AdminAPIError) as error:
        ims.faults.add("keys", **fields)
    assert says in error.value.detail
    assert httpx.get(f"{ims.url}/ims/keys").status_code == 200


def test_scenario_ims_down_fails_every_ims_endpoint(ims: MockIMS) -> None:
    ims.faults.scenario("ims-down")
    for path in ("/ims/keys", "/ims/.well-known/openid-configuration", "/ims/userinfo/v2"):
        response = httpx.get(f"{ims.url}{path}")
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
    assert client_credentials(ims).status_code == 503
    ims.faults.clear()
    assert client_credentials(ims).status_code == 200


def test_scenario_token_endpoint_500_answers_like_ims(ims: MockIMS) -> None:
    ims.faults.scenario("token-endpoint-500", times=1)
    response = client_credentials(ims)
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "error_description": "Please try again later"}
    assert client_credentials(ims).status_code == 200


def test_scenario_refresh_revoked_makes_the_next_refresh_fail(ims: MockIMS) -> None:
    refresh = ims.mint_token("refresh_token", user="alice@example.com")
    played = ims.faults.scenario("refresh-revoked", user="alice@example.com")
    assert len(played["revoked"]) == 1
    response = httpx.post(
        f"{ims.url}/ims/token/v3", data={"grant_type": "refresh_token", "refresh_token": refresh}, auth=AUTH
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_scenario_consent_denied_answers_access_denied_without_the_page(ims: MockIMS) -> None:
    ims.faults.scenario("consent-denied")
    response = httpx.get(f"{ims.url}/ims/authorize/v2", params=authorize_params())
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT_URI)
    assert "error=access_denied" in response.headers["location"]
    assert "state=state-123" in response.headers["location"]
    assert httpx.get(f"{ims.url}/ims/authorize/v2", params=authorize_params()).status_code == 200


def test_scenario_slow_token_delays_then_answers(ims: MockIMS) -> None:
    ims.faults.scenario("slow-token", delay=0.1, times=1)
    assert client_credentials(ims).status_code == 200
    assert ims.faults.list() == []


def test_scenarios_are_listed_with_their_options(ims: MockIMS) -> None:
    listed = ims.call("GET", "/__admin/scenarios")["scenarios"]
    assert {s["name"] for s in listed} == {
        "ims-down",
        "token-endpoint-500",
        "refresh-revoked",
        "consent-denied",
        "slow-token",
        "id-token-tampered",
    }


def test_an_unknown_scenario_is_a_404(ims: MockIMS) -> None:
    with pytest.raises(AdminAPIError) as error:
        ims.faults.scenario("meteor-strike")
    assert error.value.status == 404


def test_the_python_handle_tampers_with_the_next_id_token(ims: MockIMS) -> None:
    played = ims.faults.tamper_id_token("expired", client_id=CLIENT_ID)
    (rule,) = ims.faults.list()
    assert rule["id"] == played["faults"][0]["id"]
    assert (rule["endpoint"], rule["id_token"], rule["times"]) == ("id_token", "expired", 1)
