"""Named fault scenarios: common failures in one call, built on fault rules and revocation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mock_ims.protocol.bodies import TAMPERINGS
from mock_ims.state.context import Context
from mock_ims.state.faults import FaultError, FaultRule


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    options: tuple[str, ...]
    play: Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]


def _times(options: dict[str, Any], default: int | None) -> int | None:
    times = options.get("times", default)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise FaultError("times: must be a whole number >= 1, or null for every call")
    return times


def _client(options: dict[str, Any]) -> str | None:
    client_id = options.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise FaultError("client_id: must be a string")
    return client_id


async def _add(ctx: Context, scenario: str, **fields: Any) -> dict[str, Any]:
    rule = FaultRule.from_request(fields)
    rule.scenario = scenario
    return (await ctx.faults.add(rule)).to_doc()


async def ims_down(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    body = {
        "error": "temporarily_unavailable",
        "error_description": "IMS is unavailable (mock-ims scenario ims-down)",
    }
    fault = await _add(
        ctx,
        "ims-down",
        endpoint="*",
        status=503,
        body=body,
        times=_times(options, None),
        client_id=_client(options),
    )
    return {"faults": [fault]}


async def token_endpoint_500(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    # The answer IMS gives for an internal error (docs/ims-facts.md §3).
    body = {"error": "internal_error", "error_description": "Please try again later"}
    fault = await _add(
        ctx,
        "token-endpoint-500",
        endpoint="token",
        status=500,
        body=body,
        times=_times(options, None),
        client_id=_client(options),
        grant_type=options.get("grant_type"),
    )
    return {"faults": [fault]}


async def slow_token(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    delay = options.get("delay", 5)
    fault = await _add(
        ctx,
        "slow-token",
        endpoint="token",
        delay=delay,
        times=_times(options, None),
        client_id=_client(options),
    )
    return {"faults": [fault]}


async def consent_denied(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    fault = await _add(
        ctx,
        "consent-denied",
        endpoint="consent",
        status=302,
        times=_times(options, 1),
        client_id=_client(options),
    )
    return {"faults": [fault]}


async def refresh_revoked(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    user_ref = options.get("user")
    user_id = None
    if user_ref is not None:
        user = await ctx.registry.find_user(str(user_ref))
        if user is None:
            raise FaultError(f"user: no user {user_ref!r}")
        user_id = user.user_id
    revoked = await ctx.ledger.revoke_where(
        await ctx.now_ms(),
        "revoked by scenario refresh-revoked",
        user_id=user_id,
        client_id=_client(options),
        kinds=["refresh_token"],
    )
    return {"revoked": revoked}


async def id_token_tampered(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    how = options.get("how")
    if how not in TAMPERINGS:
        raise FaultError(f"how: required, one of {', '.join(TAMPERINGS)}")
    fault = await _add(
        ctx,
        "id-token-tampered",
        endpoint="id_token",
        id_token=how,
        times=_times(options, 1),
        client_id=_client(options),
    )
    return {"faults": [fault]}


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "ims-down",
            "Every IMS endpoint answers 503 temporarily_unavailable (Lightroom stub unaffected) until removed.",
            ("times", "client_id"),
            ims_down,
        ),
        Scenario(
            "token-endpoint-500",
            "The token endpoint answers 500 internal_error 'Please try again later', as IMS does.",
            ("times", "client_id", "grant_type"),
            token_endpoint_500,
        ),
        Scenario(
            "refresh-revoked",
            "Revoke every live refresh token (of a user or client): the next refresh gets invalid_grant.",
            ("user", "client_id"),
            refresh_revoked,
        ),
        Scenario(
            "consent-denied",
            "The next authorize request (times, default 1) is answered error=access_denied without the login page.",
            ("times", "client_id"),
            consent_denied,
        ),
        Scenario(
            "slow-token",
            "The token endpoint waits `delay` seconds (default 5) before answering normally.",
            ("delay", "times", "client_id"),
            slow_token,
        ),
        Scenario(
            "id-token-tampered",
            "The next ID token (times, default 1) is wrong in one way (`how`): signature, audience, "
            "issuer, expired or nonce; a client must refuse it (OIDC Core §3.1.3.7).",
            ("how", "times", "client_id"),
            id_token_tampered,
        ),
    )
}


async def play(ctx: Context, name: str, options: dict[str, Any]) -> dict[str, Any]:
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise FaultError(f"unknown scenario {name!r}; scenarios: {', '.join(SCENARIOS)}")
    unknown = sorted(set(options) - set(scenario.options))
    if unknown:
        raise FaultError(f"{name}: unknown option {unknown[0]!r}; options: {', '.join(scenario.options)}")
    return {"scenario": name, **await scenario.play(ctx, options)}
