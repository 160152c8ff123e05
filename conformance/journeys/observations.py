"""Observations: each probe's result, computed on first use and shared by every check."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser

from conformance.browser.browsing import BrowsingRecord
from conformance.journeys import probes
from conformance.stage.harness import Harness

Probe = Callable[[Harness, Browser], Any]

PROBES: dict[str, Probe] = {
    "login": probes.standard_login,
    "second-login": probes.second_login,
    "forged-state": lambda h, b: probes.forged_callback(h, b, with_state=True),
    "missing-state": lambda h, b: probes.forged_callback(h, b, with_state=False),
    "other-session": probes.other_session_callback,
    "replay": probes.replayed_callback,
    "access-denied": probes.denied_login,
    "token-endpoint-500": probes.token_endpoint_failure,
    "refresh": probes.refresh,
    "refresh-revoked": probes.revoked_refresh,
    "refresh-concurrent": probes.concurrent_refresh,
    "logout": probes.logout,
    "signed-in": probes.signed_in,
    "sessions": probes.sessions,
    "logout-csrf": probes.cross_site_logout,
    **{
        f"idtoken-{how}": functools.partial(probes.tampered_id_token, how=how)
        for how in ("signature", "audience", "issuer", "expired", "nonce")
    },
}


class ProbeFailed(RuntimeError):
    """A probe could not run; checks that need it are ERROR, with this message."""


class Observations:
    """Probe results by name. Built with a harness and a browser for a real run, or with
    prefilled results (`Observations(login=...)`) to test checks without a browser."""

    def __init__(
        self, harness: Harness | None = None, browser: Browser | None = None, **prefilled: Any
    ) -> None:
        self.harness = harness
        self.browser = browser
        self._results: dict[str, Any] = {name.replace("_", "-"): value for name, value in prefilled.items()}
        self._failures: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self._exit: str | None = None  # "the app exited with status N during the X probe"
        self.relaunch: Callable[[], Browser] | None = None  # a new browser, after a crash
        self._relaunched = False

    def get(self, name: str) -> Any:
        if name in self._results:
            return self._results[name]
        if name in self._failures:
            raise ProbeFailed(self._failures[name])
        if self.harness is None or self.browser is None:
            raise ProbeFailed(f"no observation {name!r} (no browser in this run)")
        probe = PROBES.get(name)
        if probe is None:
            raise ProbeFailed(f"unknown probe {name!r}")
        if self._exit is not None:
            self._failures[name] = f"{self._exit}; not run"
            raise ProbeFailed(self._failures[name])
        try:
            result = self._run(name, probe)
        except Exception as exc:
            message = (
                f"probe {name} could not run: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            )
            if (gone := self.app_exited()) is not None:
                message = self._exited(gone, name)
            self._failures[name] = message
            raise ProbeFailed(message) from exc
        if (gone := self.app_exited()) is not None:
            # What the probe saw after the app died is the browser's error pages, not the app.
            self._failures[name] = self._exited(gone, name)
            raise ProbeFailed(self._failures[name])
        self._results[name] = result
        return result

    def _run(self, name: str, probe: Probe) -> Any:
        """Run a probe; if the browser itself crashed under it, restart the browser once and
        run the probe again (said in the run's warnings)."""
        assert self.harness is not None and self.browser is not None
        try:
            return probe(self.harness, self.browser)
        except Exception:
            if self.browser.is_connected() or self.relaunch is None or self._relaunched:
                raise
        finally:
            self.harness.close_sessions()
        self._relaunched = True
        self.browser = self.relaunch()
        self.harness.warnings.append(f"the browser crashed during the {name} probe and was restarted once")
        try:
            return probe(self.harness, self.browser)
        finally:
            self.harness.close_sessions()

    def _exited(self, gone: str, probe: str) -> str:
        if self._exit is None:
            self._exit = f"{gone} during the {probe} probe"
        return self._exit

    def app_exited(self) -> str | None:
        """ "the app exited with status N" once the partner process the suite started is gone."""
        process = self.harness.process if self.harness is not None else None
        if process is None or process.returncode is None:
            return None
        return f"the app exited with status {process.returncode}"

    def ims_url(self) -> str:
        """The mock's URL as the browser reaches it (prefilled: `extra["ims_url"]`)."""
        return self.harness.ims_url if self.harness is not None else str(self.extra.get("ims_url", ""))

    def cannot_tell_signed_in(self) -> str | None:
        """Why the suite cannot tell this app's signed-in page from a signed-out one, or None: a
        page shows the signed-in user, as the standard sign-in's after_login page must."""
        login = self.login
        if login.profile is not None and probes.signed_in_page(login.profile, login.user, self.ims_url()):
            return None
        return (
            "after the standard sign-in, the after_login page did not show the user (see profile.shown), "
            "so the suite cannot tell a signed-in page from a signed-out one"
        )

    def has(self, name: str) -> bool:
        return name in self._results

    def browsing(self) -> list[BrowsingRecord]:
        """What every browser context of the run saw, as it closed (prefilled: `extra["browsing"]`)."""
        if self.harness is None:
            records: list[BrowsingRecord] = self.extra.get("browsing", [])
            return list(records)
        return list(self.harness.browsing)

    def issued_tokens(self) -> list[dict[str, Any]]:
        """Every code and token the mock issued to the partner's client: `id`, `kind`, `raw`, ...
        (prefilled: `extra["tokens"]`)."""
        if self.harness is None:
            tokens: list[dict[str, Any]] = self.extra.get("tokens", [])
            return list(tokens)
        return self.harness.ims.tokens.list(client_id=self.harness.client_id)

    def kinds_issued(self, journal: list[dict[str, Any]]) -> set[str]:
        """The kinds of token the mock issued in the requests of `journal` ("refresh_token", ...)."""
        ids = {token_id for entry in journal for token_id in entry.get("issued") or []}
        return {str(t["kind"]) for t in self.issued_tokens() if t.get("id") in ids}

    # Typed shortcuts for the checks.
    @property
    def login(self) -> probes.LoginRun:
        result: probes.LoginRun = self.get("login")
        return result

    @property
    def second_login(self) -> probes.LoginRun:
        result: probes.LoginRun = self.get("second-login")
        return result

    @property
    def refresh(self) -> probes.RefreshRun:
        result: probes.RefreshRun = self.get("refresh")
        return result
