"""`ImsClient`: the control plane of a running mock, over HTTP, as Python calls.

The same calls work against a mock in another process or on another host (give its URL and,
when it was started with `--admin-token`, the token), and on `MockIMS`, which runs one here.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from mock_ims.config import ClientConfig, UserConfig


class AdminAPIError(RuntimeError):
    """The admin API refused a call; `status` and `detail` say why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class LeaseHeld(AdminAPIError):
    """The mock's lease is held by someone else (409): `holder` and the seconds it `expires_in`."""

    def __init__(self, status: int, detail: str, holder: str, expires_in: float) -> None:
        super().__init__(status, detail)
        self.holder = holder
        self.expires_in = expires_in


def _error(response: httpx.Response) -> AdminAPIError:
    try:
        body = response.json()
    except ValueError:
        return AdminAPIError(response.status_code, response.text)
    if not isinstance(body, dict):
        return AdminAPIError(response.status_code, response.text)
    detail = str(body.get("detail") or response.text)
    if body.get("error") == "lease_held":
        holder, expires_in = str(body.get("holder", "")), float(body.get("expires_in", 0))
        return LeaseHeld(response.status_code, detail, holder, expires_in)
    return AdminAPIError(response.status_code, detail)


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class _Section:
    def __init__(self, client: ImsClient) -> None:
        self._client = client


class ClockAPI(_Section):
    def now(self) -> dict[str, Any]:
        """`{"now": ISO time, "now_ms": ..., "offset_seconds": ...}`."""
        return self._client.call_json("GET", "/__admin/clock")

    def now_ms(self) -> int:
        return int(self.now()["now_ms"])

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._client.call_json("POST", "/__admin/clock", json={"advance": seconds})

    def set(self, when: datetime | str) -> dict[str, Any]:
        text = when.isoformat() if isinstance(when, datetime) else when
        return self._client.call_json("POST", "/__admin/clock", json={"set": text})

    def reset(self) -> dict[str, Any]:
        return self._client.call_json("DELETE", "/__admin/clock")


class FaultsAPI(_Section):
    def add(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float | None = None,
        hang: bool = False,
        times: int | None = None,
        client_id: str | None = None,
        grant_type: str | None = None,
    ) -> dict[str, Any]:
        """A rule: the next `times` calls (None: all) to `endpoint` answer `status`/`body`,
        after `delay` seconds, or never (`hang`). Returns the rule, with its `id`."""
        rule = _clean(
            {
                "endpoint": endpoint,
                "status": status,
                "body": body,
                "headers": dict(headers) if headers else None,
                "delay": delay,
                "times": times,
                "client_id": client_id,
                "grant_type": grant_type,
            }
        )
        if hang:
            rule["hang"] = True
        return self._client.call_json("POST", "/__admin/faults", json=rule)

    def list(self) -> list[dict[str, Any]]:
        return list(self._client.call("GET", "/__admin/faults")["faults"])

    def remove(self, fault_id: str) -> None:
        self._client.call("DELETE", f"/__admin/faults/{fault_id}")

    def clear(self) -> None:
        self._client.call("DELETE", "/__admin/faults")

    def scenario(self, name: str, **options: Any) -> dict[str, Any]:
        """Play a named scenario: ims-down, token-endpoint-500, refresh-revoked, consent-denied,
        slow-token, id-token-tampered."""
        return self._client.call_json("POST", f"/__admin/scenarios/{name}", json=_clean(options))

    def tamper_id_token(
        self, how: str, *, times: int | None = 1, client_id: str | None = None
    ) -> dict[str, Any]:
        """The next `times` ID tokens (of `client_id`'s sign-ins, or anyone's) are wrong in one way:
        `signature` (a key not in the JWKS), `audience`, `issuer`, `expired` or `nonce`. The
        journal entry of the answer that carried one shows its claims (`tampered_id_token`)."""
        return self.scenario("id-token-tampered", how=how, times=times, client_id=client_id)


class JournalAPI(_Section):
    def entries(
        self,
        endpoint: str | None = None,
        *,
        client_id: str | None = None,
        user_id: str | None = None,
        outcome: str | None = None,
        since: datetime | str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries, oldest first, filtered."""
        if isinstance(since, datetime):
            since = since.isoformat()
        query = _clean(
            {
                "endpoint": endpoint,
                "client_id": client_id,
                "user_id": user_id,
                "outcome": outcome,
                "since": since,
                "after": after,
                "limit": limit,
            }
        )
        return list(self._client.call("GET", "/__admin/journal", params=query)["entries"])

    def clear(self) -> None:
        self._client.call("DELETE", "/__admin/journal")


class UsersAPI(_Section):
    def list(self) -> list[UserConfig]:
        return [UserConfig.from_dict(u) for u in self._client.call("GET", "/__admin/users")["users"]]

    def get(self, ref: str) -> UserConfig:
        return UserConfig.from_dict(self._client.call("GET", f"/__admin/users/{ref}"))

    def add(self, email: str, password: str, **fields: Any) -> UserConfig:
        body = {"email": email, "password": password, **fields}
        return UserConfig.from_dict(self._client.call("POST", "/__admin/users", json=body))

    def update(self, ref: str, **fields: Any) -> UserConfig:
        return UserConfig.from_dict(self._client.call("PATCH", f"/__admin/users/{ref}", json=fields))

    def remove(self, ref: str) -> None:
        self._client.call("DELETE", f"/__admin/users/{ref}")


class ClientsAPI(_Section):
    def list(self) -> list[ClientConfig]:
        return [ClientConfig.from_dict(c) for c in self._client.call("GET", "/__admin/clients")["clients"]]

    def get(self, client_id: str) -> ClientConfig:
        return ClientConfig.from_dict(self._client.call("GET", f"/__admin/clients/{client_id}"))

    def add(self, client_id: str, **fields: Any) -> ClientConfig:
        body = {"client_id": client_id, **fields}
        return ClientConfig.from_dict(self._client.call("POST", "/__admin/clients", json=body))

    def update(self, client_id: str, **fields: Any) -> ClientConfig:
        return ClientConfig.from_dict(
            self._client.call("PATCH", f"/__admin/clients/{client_id}", json=fields)
        )

    def remove(self, client_id: str) -> None:
        self._client.call("DELETE", f"/__admin/clients/{client_id}")


class TokensAPI(_Section):
    def list(
        self,
        *,
        client_id: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        live: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Every code and token issued: raw value, decoded claims, and whether used/revoked/expired."""
        query = _clean({"client_id": client_id, "user": user, "kind": kind})
        if live is not None:
            query["live"] = "true" if live else "false"
        return list(self._client.call("GET", "/__admin/tokens", params=query)["tokens"])

    def raw_values(self, **filters: Any) -> builtins.list[str]:
        return [t["raw"] for t in self.list(**filters)]

    def mint(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self._client.call_json("POST", "/__admin/tokens", json={"kind": kind, **_clean(fields)})

    def revoke(
        self,
        *,
        user: str | None = None,
        client_id: str | None = None,
        token: str | None = None,
        token_id: str | None = None,
        kind: str | None = None,
    ) -> builtins.list[str]:
        body = _clean(
            {"user": user, "client_id": client_id, "token": token, "token_id": token_id, "kind": kind}
        )
        return list(self._client.call("POST", "/__admin/tokens/revoke", json=body)["revoked"])


@dataclass(frozen=True)
class Lease:
    """A lease on the mock, as granted or last renewed; `id` is what proves it is yours."""

    id: str
    holder: str
    ttl: float
    expires_in: float  # seconds, when it was granted or renewed
    expires_at: str

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Lease:
        return cls(
            id=str(answer["id"]),
            holder=str(answer["holder"]),
            ttl=float(answer["ttl"]),
            expires_in=float(answer["expires_in"]),
            expires_at=str(answer["expires_at"]),
        )


class KeptLease:
    """A lease `LeaseAPI.held` keeps renewing: `lease` is its latest renewal; `lost` is None
    while it is held, else the refusal that showed it lapsed (renewed too late, or taken)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.lost: AdminAPIError | None = None

    @property
    def id(self) -> str:
        return self.lease.id

    @property
    def holder(self) -> str:
        return self.lease.holder

    def check(self) -> None:
        """Raise the refusal that showed the lease lapsed, if it did."""
        if self.lost is not None:
            raise self.lost


LEASE_POLL_SECONDS = 0.5


def _lease_id(lease: Lease | KeptLease | str) -> str:
    return lease if isinstance(lease, str) else lease.id


class LeaseAPI(_Section):
    """The mock's lease: one holder at a time, for tools that need the mock to themselves."""

    def acquire(self, holder: str, ttl: float = 60, *, wait: float = 0) -> Lease:
        """Take the lease for `ttl` seconds; LeaseHeld when someone else has it. With `wait`,
        try again every half second for up to `wait` seconds first."""
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = self._client.call_json("POST", "/__admin/lease", json={"holder": holder, "ttl": ttl})
                return Lease.from_answer(answer)
            except LeaseHeld:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                time.sleep(min(LEASE_POLL_SECONDS, left))

    def renew(self, lease: Lease | KeptLease | str, ttl: float | None = None) -> Lease:
        """Extend the lease to `ttl` seconds from now (None: the ttl it was taken for)."""
        body = _clean({"ttl": ttl})
        return Lease.from_answer(
            self._client.call_json("PUT", f"/__admin/lease/{_lease_id(lease)}", json=body)
        )

    def release(self, lease: Lease | KeptLease | str) -> None:
        """Give the lease up; AdminAPIError 404 when it was released already or expired."""
        self._client.call("DELETE", f"/__admin/lease/{_lease_id(lease)}")

    def current(self) -> dict[str, Any] | None:
        """Who holds the lease (`holder`, `ttl`, `expires_in`, `expires_at`, `acquired_at`), or None."""
        answer = self._client.call_json("GET", "/__admin/lease")
        if not answer.get("held"):
            return None
        return {name: value for name, value in answer.items() if name != "held"}

    @contextlib.contextmanager
    def held(self, holder: str, ttl: float = 60, *, wait: float = 0) -> Iterator[KeptLease]:
        """Hold the lease for the block: acquire it (waiting up to `wait` seconds), renew it
        every ttl/3 seconds in a daemon thread, release it on the way out.

        A lease that lapses inside the block does not raise: `lost` says so (`check()` raises).
        """
        kept = KeptLease(self.acquire(holder, ttl, wait=wait))
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._keep, args=(kept, stop, ttl / 3), name="mock-ims-lease", daemon=True
        )
        renewer.start()
        try:
            yield kept
        finally:
            stop.set()
            renewer.join()
            if kept.lost is None:
                try:
                    self.release(kept)
                except AdminAPIError as exc:
                    if exc.status not in (404, 409):
                        raise
                    kept.lost = exc
                except httpx.HTTPError:
                    pass  # the mock is gone or not answering: the lease expires within its ttl

    def _keep(self, kept: KeptLease, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            try:
                kept.lease = self.renew(kept)
            except AdminAPIError as exc:
                if exc.status in (404, 409):  # expired, or someone else has it now
                    kept.lost = exc
                    return
            except httpx.HTTPError:
                pass  # the mock did not answer this time: the next turn tries again


class ImsClient:
    """Steer and observe a mock IMS through its admin API."""

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)
        self.clock = ClockAPI(self)
        self.faults = FaultsAPI(self)
        self.journal = JournalAPI(self)
        self.users = UsersAPI(self)
        self.clients = ClientsAPI(self)
        self.tokens = TokensAPI(self)
        self.lease = LeaseAPI(self)

    def call_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """`call` for endpoints that answer a JSON object."""
        answer = self.call(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise AdminAPIError(200, f"{method} {path} did not answer a JSON object")
        return answer

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # ---- shortcuts ------------------------------------------------------------------------

    @property
    def default_client(self) -> ClientConfig:
        return self.clients.list()[0]

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/ims/.well-known/openid-configuration"

    def mint_code(self, *, user: str, redirect_uri: str, client_id: str | None = None, **fields: Any) -> str:
        """An authorization code as if `user` had signed in (e.g. an attacker's code)."""
        minted = self.tokens.mint(
            "authorization_code", user=user, redirect_uri=redirect_uri, client_id=client_id, **fields
        )
        return str(minted["token"])

    def mint_token(self, kind: str = "access_token", *, user: str | None = None, **fields: Any) -> str:
        return str(self.tokens.mint(kind, user=user, **fields)["token"])

    def revoke(self, **what: Any) -> list[str]:
        """Revoke tokens by `user`, `client_id`, `token` or `token_id`; the ids revoked."""
        return self.tokens.revoke(**what)

    def reset(self) -> None:
        self.call("POST", "/__admin/reset")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ImsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
