"""Everything a conformance run stands on: the mock IMS, the partner app, the test users."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser

from conformance.browser.browsing import STEP_TIMEOUT_S, BrowserSession, BrowsingRecord, Hung
from conformance.browser.trust import CertificateError, trusted_keys
from conformance.config import PartnerConfig, PartnerConfigError
from conformance.stage.partner import PartnerProcess, wait_until_answering
from conformance.storage.scan import StorageSpec
from mock_ims import (
    AdminAPIError,
    ClientConfig,
    ImsClient,
    Interception,
    KeptLease,
    LeaseHeld,
    MockConfig,
    MockIMS,
    UserConfig,
    default_config,
)

REAL_IMS = "https://ims-na1.adobelogin.com"
REAL_LIGHTROOM = "https://lr.adobe.io"


@dataclass(frozen=True)
class TestUser:
    email: str
    password: str
    first_name: str
    last_name: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def config(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "password": self.password,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }


# Distinctive names, so "the page shows the user" cannot be satisfied by accident.
VICTIM = TestUser("cora.conformance@example.com", "cora-pass", "Cora", "Conformance")
ATTACKER = TestUser("mallory.attacker@example.com", "mallory-pass", "Mallory", "Attacker")


HANG_JOURNAL_ENTRIES = 10
LEASE_TTL_S = 60.0  # renewed every 20 s while the run lasts; a killed run frees the mock within a minute


@dataclass(frozen=True)
class HangRecord:
    message: str  # "GET /profile did not answer within 10 s after the access token expired"
    journal: list[dict[str, Any]]  # the mock's last entries for this client at that moment


@dataclass
class Harness:
    """Built once per run; probes and checks read from it."""

    partner: PartnerConfig
    report_dir: Path
    ims: ImsClient
    client_id: str
    client_secret: str
    owned_mock: MockIMS | None = None
    process: PartnerProcess | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the run itself, shown in every report
    interception: Interception | None = None  # real_hostnames: the proxy the partner goes through
    browsing: list[BrowsingRecord] = field(default_factory=list)  # every browser context, as it closed
    # The SPKI hashes Chromium accepts (conformance.browser.trust).
    trusted_keys: list[str] = field(default_factory=list)
    step_timeout: float = STEP_TIMEOUT_S  # seconds the app has to answer one step
    hangs: list[HangRecord] = field(default_factory=list)  # every step the app did not answer
    _leases: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    sessions: list[BrowserSession] = field(default_factory=list)  # opened since close_sessions
    lease: KeptLease | None = None  # a shared mock, held for this run alone

    def browser_session(self, browser: Browser, name: str) -> BrowserSession:
        """A fresh browser context for a probe; what it saw joins `browsing` when it closes."""
        session = BrowserSession(
            browser,
            name,
            self.report_dir,
            self.browser_proxy,
            records=self.browsing,
            skip_origins=(self.ims.url, self.ims_url),
            step_timeout=self.step_timeout,
            on_hang=self._hung,
        )
        self.sessions.append(session)
        return session

    def close_sessions(self) -> None:
        """Close what a probe left open (it stopped on an error): its browsing is still recorded."""
        sessions, self.sessions = self.sessions, []
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()

    def _hung(self, hang: Hung) -> None:
        """Keep what the mock saw around a hang, for the verdicts it explains."""
        try:
            journal = self.ims.journal.entries(client_id=self.client_id)[-HANG_JOURNAL_ENTRIES:]
        except (httpx.HTTPError, AdminAPIError):
            journal = []
        self.hangs.append(HangRecord(str(hang), journal))

    @property
    def ims_url(self) -> str:
        """IMS as the partner and the browser reach it (the real hostname behind the proxy)."""
        return REAL_IMS if self.interception else self.ims.url

    @property
    def lightroom_url(self) -> str:
        return REAL_LIGHTROOM if self.interception else self.ims.url

    @property
    def browser_proxy(self) -> dict[str, str] | None:
        """Playwright's `proxy` for new browser contexts (None: straight to the mock)."""
        return self.interception.playwright_proxy() if self.interception else None

    def placeholders(self) -> dict[str, str]:
        return {
            "ims_url": self.ims_url,
            "lightroom_url": self.lightroom_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.partner.redirect_uri,
            "base_url": self.partner.base_url,
            "port": str(self.partner.port),
            "python": sys.executable,
            "work_dir": str(self.work_dir),
        }

    @property
    def work_dir(self) -> Path:
        return self.report_dir / "partner-work"

    def journal_mark(self) -> int:
        entries = self.ims.journal.entries()
        return int(entries[-1]["seq"]) if entries else 0

    def journal_since(self, mark: int) -> list[dict[str, Any]]:
        # The proxy's refusals (the browser's own background calls) are no part of the partner's story.
        return [
            e
            for e in self.ims.journal.entries(after=mark)
            if e.get("client_id") in (self.client_id, None) and e.get("endpoint") != "proxy"
        ]

    def storage_spec(self) -> StorageSpec | None:
        """Where the partner said it keeps state at rest, or None when it said nothing."""
        declared = self.partner.storage
        if not declared.declared:
            return None
        return StorageSpec(
            files=declared.files,
            sqlite=declared.sqlite,
            redis=declared.redis,
            command=declared.command,
            root=self.partner.cwd,
            max_files=declared.max_files,
            max_bytes=declared.max_bytes,
        )

    def partner_logs(self) -> list[Path]:
        return [self.process.log_path] if self.process else []

    def chromium_args(self) -> list[str]:
        """Launch flags: accept the certificates of the app (`ca_file`) and of the mock's proxy, no others."""
        keys = list(self.trusted_keys)
        if self.interception is not None:
            keys.append(self.interception.ca_spki_sha256)
        return [f"--ignore-certificate-errors-spki-list={','.join(keys)}"] if keys else []

    def lease_lost(self) -> str | None:
        """Why the shared mock stopped being this run's alone, if it did."""
        if self.lease is None or self.lease.lost is None:
            return None
        return (
            f"the lease on the shared mock {self.ims.url} lapsed during the run ({self.lease.lost.detail}): "
            "another run may have moved its clock or added to its journal"
        )

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self.owned_mock is not None:
            self.owned_mock.stop()
        self._leases.close()
        self.ims.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _partner_client(partner: PartnerConfig) -> ClientConfig:
    return ClientConfig(
        client_id=partner.client.client_id,
        client_secret=partner.client.client_secret,
        name="Partner app under conformance test",
        redirect_uris=(re.escape(partner.redirect_uri),),
        # The Developer Console requires a default redirect URI (docs/ims-facts.md §7); IMS sends the
        # user there when an authorize request has no redirect_uri.
        default_redirect_uri=partner.redirect_uri,
        scopes=partner.client.scopes,
        grant_types=("authorization_code", "refresh_token"),
    )


def _mock_config(partner: PartnerConfig) -> MockConfig:
    base = default_config()
    users = (UserConfig.from_dict(VICTIM.config()), UserConfig.from_dict(ATTACKER.config()))
    return base.with_overrides(clients=(_partner_client(partner), *base.clients), users=users + base.users)


def _ensure_users(ims: ImsClient) -> None:
    known = {u.email for u in ims.users.list()}
    for user in (VICTIM, ATTACKER):
        if user.email not in known:
            ims.users.add(**user.config())


def _registered_client(ims: ImsClient, url: str, client_id: str) -> ClientConfig:
    """The partner's client at a shared mock; a mock that cannot be reached or refuses the
    admin token is a configuration error naming the key at fault."""
    try:
        ims.clock.now()
    except httpx.HTTPError as exc:
        raise PartnerConfigError(
            f"ims.url: no mock IMS answers at {url} ({type(exc).__name__}: {exc or 'no answer'})"
        ) from exc
    except AdminAPIError as exc:
        if exc.status in (401, 403):
            raise PartnerConfigError(
                f"ims.admin_token: the mock at {url} refused it ({exc.status}: {exc.detail})"
            ) from exc
        raise PartnerConfigError(f"ims.url: {url} does not answer as a mock IMS ({exc})") from exc
    try:
        return ims.clients.get(client_id)
    except AdminAPIError as exc:
        raise PartnerConfigError(
            f"ims.client_id: the mock at {url} has no client {client_id!r} ({exc})"
        ) from exc


def _hold(ims: ImsClient, url: str, leases: contextlib.ExitStack, wait: float) -> KeptLease:
    """The shared mock for this run alone: its lease, kept until the harness closes. Another
    run's clock moves and journal entries would otherwise land in this run's verdicts."""
    holder = f"ims-conformance on {socket.gethostname()} (pid {os.getpid()})"
    try:
        return leases.enter_context(ims.lease.held(holder, LEASE_TTL_S, wait=wait))
    except LeaseHeld as exc:
        waited = f"waited {wait:g} s; " if wait else ""
        raise PartnerConfigError(
            f"ims.url: the mock at {url} is in use by {exc.holder} for up to {exc.expires_in:.0f} more s "
            f"({waited}run again when it is free, or wait for it with --wait-for-mock SECONDS)"
        ) from exc


def prepare(
    partner: PartnerConfig,
    report_dir: Path,
    *,
    start_timeout: float = 30.0,
    step_timeout: float = STEP_TIMEOUT_S,
    wait_for_mock: float = 0.0,
) -> Harness:
    """Start (or reach) the mock, register the partner, start the partner app."""
    report_dir.mkdir(parents=True, exist_ok=True)
    if partner.port == 0:
        partner = partner.with_port(free_port())
    owned: MockIMS | None = None
    warnings: list[str] = []
    leases = contextlib.ExitStack()
    lease: KeptLease | None = None
    if partner.ims.url:
        ims = ImsClient(partner.ims.url, admin_token=partner.ims.admin_token)
        client_id = partner.ims.client_id or ""
        try:
            registered = _registered_client(ims, partner.ims.url, client_id)
            lease = _hold(ims, partner.ims.url, leases, wait_for_mock)
        except BaseException:
            leases.close()
            ims.close()
            raise
        client_secret = partner.ims.client_secret or registered.client_secret or ""
        _ensure_users(ims)
        if not partner.ims.admin_token:
            warnings.append(
                f"the mock at {partner.ims.url} has no admin token, so the app under test could have "
                "changed the journal, clock or faults this report is built on; start it with "
                "--admin-token and set [ims] admin_token"
            )
    else:
        # The suite's own mock: its control plane answers only to this run, so the app cannot
        # erase or rewrite the evidence (the journal) it is judged on.
        owned = MockIMS(_mock_config(partner), admin_token=secrets.token_urlsafe(32)).start()
        ims = owned
        client_id, client_secret = partner.client.client_id, partner.client.client_secret
    harness = Harness(
        partner,
        report_dir,
        ims,
        client_id,
        client_secret,
        owned_mock=owned,
        warnings=warnings,
        step_timeout=step_timeout,
        lease=lease,
        _leases=leases,
    )
    if partner.real_hostnames and owned is not None:
        harness.interception = owned.intercept(data_dir=report_dir / "mock-ims")
        harness.notes.append(
            f"real hostnames: the partner and the browser reach the mock through {harness.interception.proxy_url}"
        )
    shutil.rmtree(harness.work_dir, ignore_errors=True)
    harness.work_dir.mkdir(parents=True)
    harness.partner = partner.filled(harness.placeholders())
    try:
        if harness.partner.command:
            proxy_env = harness.interception.environment() if harness.interception else {}
            harness.process = PartnerProcess(
                harness.partner.command,
                cwd=harness.partner.cwd,
                env={**proxy_env, **harness.partner.env},
                log_path=report_dir / "partner.log",
            )
            started = time.monotonic()
            harness.process.start(
                harness.partner.url(harness.partner.ready_path),
                start_timeout,
                ca_file=harness.partner.ca_file,
            )
            harness.notes.append(
                f"partner started in {time.monotonic() - started:.1f}s: {harness.process.describe()}"
            )
        else:
            wait_until_answering(
                harness.partner.url(harness.partner.ready_path),
                start_timeout,
                ca_file=harness.partner.ca_file,
            )
        if harness.partner.ca_file is not None:
            try:
                harness.trusted_keys = trusted_keys(harness.partner.base_url, harness.partner.ca_file)
            except CertificateError as exc:
                raise PartnerConfigError(str(exc)) from exc
    except BaseException:  # Ctrl-C and --timeout too: the app must not outlive the run
        harness.close()
        raise
    return harness
