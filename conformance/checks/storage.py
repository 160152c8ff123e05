"""Tokens at rest: only on the backend, and encrypted there.

The mock knows every token it issued to the partner, so the suite searches for those exact values
and their encodings (conformance.storage.leaks), in the declared storage and the partner's own
logs, and in what the browser keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks.base import (
    Judgement,
    check,
    failed,
    findings_evidence,
    note,
    passed,
    skipped,
    warned,
)
from conformance.checks.exposed import judge_browsing
from conformance.journeys.observations import Observations
from conformance.model import Severity
from conformance.storage.leaks import Secret, needles_for
from conformance.storage.scan import StorageSpec, changed, scan, snapshot

STORED_KINDS = ("access_token", "refresh_token")
SHOWN_UNSCANNED = 3  # places named in a summary; the evidence lists them all


def storage_spec(obs: Observations) -> StorageSpec | None:
    if obs.harness is None:
        spec: StorageSpec | None = obs.extra.get("storage-spec")
        return spec
    return obs.harness.storage_spec()


def not_scanned(unscanned: Sequence[str]) -> str:
    """What a scan left out, for a summary: the first few, and how many more."""
    shown = "; ".join(unscanned[:SHOWN_UNSCANNED])
    more = len(unscanned) - SHOWN_UNSCANNED
    return shown + (f"; and {more} more (see evidence)" if more > 0 else "")


def issued_secrets(obs: Observations) -> list[Secret]:
    """Every access and refresh token the mock issued to the partner during this run."""
    return [
        Secret(f"{t['kind']} {t['id']}", str(t["raw"]))
        for t in obs.issued_tokens()
        if t.get("kind") in STORED_KINDS
    ]


@check(
    "storage.written",
    severity=Severity.RECOMMENDED,
    area="storage",
    fix="Declare in [storage] where your app keeps tokens, so the suite can look at them.",
    requirement="Lightroom partner rule: tokens are kept on the backend (so they can be checked at rest)",
    description="The declared storage changed during the run (else storage.encrypted is inconclusive).",
    probes=("login",),
)
def write_the_declared_storage(obs: Observations) -> Judgement:
    spec = storage_spec(obs)
    if spec is None:
        return skipped("the partner description declares no [storage]")
    obs.login  # noqa: B018 - make sure a login has happened
    before = obs.extra.get("storage-before")
    if before is None:
        return skipped("no snapshot of the storage was taken before the first login")
    after = snapshot(spec)
    differences = changed(before, after)
    unscanned = [*before.unscanned, *(u for u in after.unscanned if u not in before.unscanned)]
    if not differences:
        return warned(
            "nothing in the declared storage changed during login"
            + (f", in what was scanned; not scanned: {not_scanned(unscanned)}" if unscanned else ""),
            expected="the partner writes its tokens to the declared storage",
            evidence=[
                note("declared storage", {"files": spec.files, "sqlite": spec.sqlite, "redis": spec.redis}),
                note("not scanned", unscanned),
            ],
        )
    return passed(
        f"{len(differences)} change(s) in the declared storage", evidence=[note("changes", differences[:50])]
    )


@check(
    "storage.encrypted",
    severity=Severity.REQUIRED,
    area="storage",
    fix="Encrypt access and refresh tokens at rest (e.g. AES-GCM with a key outside the database) and keep them out of logs.",
    requirement="Lightroom partner rule: user access and refresh tokens are stored with encryption at rest",
    description="No token the mock issued is found at rest in plaintext, in any encoding, logs included.",
    probes=("signed-in",),
)
def encrypt_tokens_at_rest(obs: Observations) -> Judgement:
    # Scanned right after a sign-in the user stays in: by the end of a run the last probes may
    # have signed out or met a revoked grant, and a partner that deletes tokens then keeps none.
    obs.get("signed-in")
    declared = storage_spec(obs)
    harness = obs.harness
    logs = harness.partner_logs() if harness else []
    secrets = issued_secrets(obs)
    if not secrets:
        return skipped(
            "the mock issued no access or refresh token to the partner, so there is nothing to look for"
        )
    result = scan(declared or StorageSpec(), needles_for(secrets), extra_files=logs)
    looked = note(
        "looked at",
        {
            "places": result.scanned,
            "notes": result.notes,
            "not scanned": result.unscanned,
            "tokens": len(secrets),
        },
    )
    if result.findings:
        first = result.findings[0]
        return failed(
            f"{len(result.findings)} token occurrence(s) at rest, e.g. {first.encoding} in {first.location}",
            expected="tokens only as ciphertext",
            seen=first.location,
            evidence=[findings_evidence("where tokens were found", result.findings), looked],
        )
    if declared is None:
        return skipped(
            "no [storage] declared, so where the app keeps its tokens was not scanned "
            f"(its log was: no token in {len(result.scanned)} place(s))",
            evidence=[looked],
        )
    if not result.complete:
        # A limit or a rule kept part of the storage out of the scan: the token may be there.
        return warned(
            f"none of {len(secrets)} tokens in {len(result.scanned)} place(s) scanned, but the scan "
            f"was incomplete; not scanned: {not_scanned(result.unscanned)}",
            expected="every declared place scanned, and no token in it",
            seen="an incomplete scan (raise [storage] max_files or max_bytes, or narrow the globs)",
            evidence=[looked],
        )
    before = obs.extra.get("storage-before")
    if before is not None and not changed(before, snapshot(declared)):
        return skipped(
            "the declared storage did not change during the run, so the tokens are kept somewhere "
            "the suite was not told about (see storage.written); no token in what was declared",
            evidence=[looked],
        )
    return passed(
        f"none of {len(secrets)} tokens, in any encoding, in {len(result.scanned)} place(s) written during the run",
        evidence=[looked],
    )


@check(
    "browser.no-tokens",
    severity=Severity.REQUIRED,
    area="browser",
    fix="Keep tokens on the server; give the browser only an opaque session id.",
    requirement="Lightroom partner rule: store tokens on the backend server only",
    description="No token reaches the browser: URLs and redirects, request headers (Referer), response headers, pages and scripts, cookies (decoded, joined), localStorage, sessionStorage, IndexedDB, Cache Storage.",
    probes=("login",),
)
def keep_tokens_out_of_the_browser(obs: Observations) -> Judgement:
    obs.login  # noqa: B018 - tokens and browser state come from the login
    secrets = issued_secrets(obs)
    if not secrets:
        return skipped(
            "the mock issued no access or refresh token to the partner, so there is nothing to look for"
        )
    return judge_browsing(obs, needles_for(secrets), one="a token", none=f"none of {len(secrets)} tokens")
