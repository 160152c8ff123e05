"""Many clients presenting the same code or refresh token at once, each on a connection of its
own, and what they were answered."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import httpx

from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER

AUTH = (CLIENT_ID, CLIENT_SECRET)


def fresh_connections(racers: int) -> httpx.AsyncClient:
    """No keep-alive: every request opens its own connection, so a multi-worker server spreads
    them over its workers, and all `racers` can be in flight at once."""
    limits = httpx.Limits(max_connections=racers, max_keepalive_connections=0)
    return httpx.AsyncClient(limits=limits, timeout=60)


async def mint(http: httpx.AsyncClient, url: str, kind: str, **fields: str) -> str:
    """A code or refresh token minted through the admin API, as if alice had signed in."""
    response = await http.post(
        f"{url}/__admin/tokens", json={"kind": kind, "user": "alice@example.com", **fields}
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


async def mint_code(http: httpx.AsyncClient, url: str) -> str:
    from mock_ims.protocol.pkce import s256

    return await mint(
        http,
        url,
        "authorization_code",
        redirect_uri=REDIRECT_URI,
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
    )


async def race(
    http: httpx.AsyncClient, urls: Sequence[str], form: dict[str, str], racers: int
) -> list[httpx.Response]:
    """POST the same token request `racers` times at once, spread evenly over `urls`."""
    posts = [http.post(f"{urls[n % len(urls)]}/ims/token/v3", data=form, auth=AUTH) for n in range(racers)]
    return list(await asyncio.gather(*posts))


def tally(responses: Sequence[httpx.Response]) -> Counter[str]:
    """ "ok" per 200 with an access token, "invalid_grant" per refusal; anything else by status."""
    counts: Counter[str] = Counter()
    for response in responses:
        if response.status_code == 200 and "access_token" in response.json():
            counts["ok"] += 1
        elif response.status_code == 400 and response.json().get("error") == "invalid_grant":
            counts["invalid_grant"] += 1
        else:
            counts[f"{response.status_code} {response.text[:200]}"] += 1
    return counts
