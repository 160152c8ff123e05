"""The judgement both browser checks share: secrets searched in everything the browser held."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.browser.exposure import scan_browsing
from conformance.checks.base import Judgement, errored, failed, findings_evidence, note, passed, skipped
from conformance.journeys.observations import Observations
from conformance.storage.leaks import Needle


def judge_browsing(obs: Observations, needles: Sequence[Needle], *, one: str, none: str) -> Judgement:
    """FAIL naming where `one` ("a token") was found; ERROR when a place could not be read;
    PASS saying `none` ("none of 18 tokens") and how many places of each kind were searched."""
    records = obs.browsing()
    if not records:
        return skipped("the suite has no browsing to look at")
    exposure = scan_browsing(records, needles)
    looked = note("looked at", {"places": exposure.looked_at, "unread": exposure.unread})
    if exposure.findings:
        first = exposure.findings[0]
        return failed(
            f"{one} is in the browser: {first.encoding} in {first.location}"
            + (f" (and {len(exposure.findings) - 1} more place(s))" if len(exposure.findings) > 1 else ""),
            seen=first.location,
            evidence=[findings_evidence(f"where {one} was found", exposure.findings), looked],
        )
    if exposure.unread:
        return errored(f"some of the browser could not be read: {exposure.unread[0]}", evidence=[looked])
    return passed(f"{none} in {exposure.summary()} of {len(records)} browser contexts", evidence=[looked])
