"""Evil twins of the reference client: each broken on purpose in one way, to prove the
conformance suite catches that way (issue 5 item 7; tests/conformance/test_twins.py).

Run one as the suite would: `python -m tests.conformance.twins NAME --port N`, configured by
the reference client's environment variables (IMS_BASE_URL, IMS_CLIENT_ID, ...).
"""

from __future__ import annotations

from tests.conformance.twins import (
    browser_leaks,
    id_tokens,
    ims_requests,
    lightroom,
    pages,
    sessions,
    states,
    storage,
    token_use,
)
from tests.conformance.twins.registry import TWINS, Twin

__all__ = ["TWINS", "Twin"]
del browser_leaks, id_tokens, ims_requests, lightroom, pages, sessions, states, storage, token_use
