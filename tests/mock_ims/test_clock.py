"""Times in the journal and the admin API: ISO 8601 in UTC, to the millisecond."""

from __future__ import annotations

import pytest

from mock_ims.state.clock import parse_iso, to_iso


@pytest.mark.parametrize(
    ("ms", "iso"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1000, "1970-01-01T00:00:01.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_795_806_838_350, "2026-11-27T19:13:58.350Z"),
        (1_795_806_838_351, "2026-11-27T19:13:58.351Z"),
        (1_795_806_839_001, "2026-11-27T19:13:59.001Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_to_iso_is_utc_to_the_millisecond(ms: int, iso: str) -> None:
    assert to_iso(ms) == iso
    assert parse_iso(iso) == ms
