"""The pytest plugin, used from a test file the way a partner would."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PARTNER_TESTS = """
import httpx

def test_the_fixture_serves_a_mock(mock_ims, mock_ims_url):
    assert mock_ims_url == mock_ims.url
    response = httpx.post(
        f"{mock_ims_url}/ims/token/v3",
        data={"grant_type": "client_credentials"},
        auth=(mock_ims.default_client.client_id, mock_ims.default_client.client_secret),
    )
    assert response.status_code == 200
    assert len(mock_ims.journal.entries(endpoint="token")) == 1

def test_each_test_starts_from_a_clean_mock(mock_ims):
    assert mock_ims.journal.entries() == []
    assert mock_ims.tokens.list() == []

def test_the_clock_and_faults_are_at_hand(mock_ims):
    mock_ims.clock.advance(3600)
    mock_ims.faults.add("token", status=500, times=1)
    assert len(mock_ims.faults.list()) == 1

def test_and_are_reset_after(mock_ims):
    assert mock_ims.faults.list() == []
    assert abs(mock_ims.clock.now()["offset_seconds"]) < 1
"""


def test_a_partner_test_file_uses_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_partner=PARTNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)


def test_the_configuration_can_be_overridden_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        partner="""
[[clients]]
client_id = "my-app"
client_secret = "my-secret"
redirect_uris = ['http://localhost:\\d+/cb']
scopes = ["openid", "AdobeID"]
grant_types = ["client_credentials"]

[[users]]
email = "tester@example.com"
password = "pw"
""",
    )
    pytester.makeconftest(
        """
import pathlib
from pathlib import Path

import pytest

@pytest.fixture(scope="session")
def mock_ims_config():
    return pathlib.Path(__file__).parent / "partner.toml"
"""
    )
    pytester.makepyfile(
        test_custom="""
def test_uses_my_client(mock_ims):
    assert mock_ims.default_client.client_id == "my-app"
    assert [u.email for u in mock_ims.users.list()] == ["tester@example.com"]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def readme_example() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    after = readme.split("A partner's test, complete:", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_passes_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme=readme_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
