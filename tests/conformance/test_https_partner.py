"""A partner app on https://localhost with a certificate of its own, as partners run them.

Adobe wants https redirect URIs, so partners serve their app with a certificate from mkcert (a
local CA) or a self-signed one. The test makes both the way mkcert does: a CA, and a leaf for
localhost signed by it, which the server sends without the CA. The Flask partner app (written
apart from the suite, tests/conformance/partners/flask_careful) is served with Flask's own
`--cert/--key`, unchanged, and described with `[partner] ca_file`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from conformance.config import PartnerConfigError, parse
from mock_ims.tls.ca import LocalCA
from tests.helpers.conformance_runs import ID_TOKEN_IGNORED, LIGHTROOM_NEVER_EXPIRED, run_conformance

FLASK_APP = Path(__file__).parent / "partners" / "flask_careful"
ENV = (
    'IMS_BASE_URL = "{ims_url}", IMS_CLIENT_ID = "{client_id}", IMS_CLIENT_SECRET = "{client_secret}", '
    'REDIRECT_URI = "{redirect_uri}", LIGHTROOM_BASE_URL = "{lightroom_url}", DATA_DIR = "{work_dir}"'
)


def mkcert(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, localhost certificate, its key), as `mkcert -install && mkcert localhost` makes."""
    ca = LocalCA.load_or_create(directory / "ca")
    leaf = ca.issue(("localhost", "127.0.0.1"))
    leaf_path, key_path = directory / "localhost.pem", directory / "localhost-key.pem"
    leaf_path.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
    )  # the leaf alone, as mkcert serves it
    key_path.write_bytes(
        ca.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    shutil.copy(ca.cert_path, directory / "rootCA.pem")
    return directory / "rootCA.pem", leaf_path, key_path


def describe(directory: Path, leaf: Path, key: Path, *, ca_file: str | None) -> Path:
    config = directory / "partner.toml"
    ca_line = f'ca_file = "{ca_file}"\n' if ca_file else ""
    config.write_text(
        f"""[partner]
base_url = "https://localhost:0"
{ca_line}start_login = "/login"
callback = "/callback"
after_login = "/profile"
needs_token = "/profile"
logout = "click:#sign-out"
command = "{{python}} -m flask --app app run --cert {leaf} --key {key} --host 127.0.0.1 --port {{port}}"
cwd = "{FLASK_APP}"
ready_path = "/"
env = {{ {ENV} }}

[storage]
files = ["{{work_dir}}/**"]
sqlite = ["{{work_dir}}/tokens.db"]
""",
        "utf-8",
    )
    return config


@pytest.mark.browser
def test_an_https_app_described_with_its_ca_file_gets_the_verdicts_it_gets_over_http(tmp_path: Path) -> None:
    ca, leaf, key = mkcert(tmp_path)
    run = run_conformance(describe(tmp_path, leaf, key, ca_file=ca.name), tmp_path / "report")

    not_passed = {check: verdict for check, verdict in run.verdicts.items() if verdict != "PASS"}
    assert run.verdicts and not_passed == {**ID_TOKEN_IGNORED, **LIGHTROOM_NEVER_EXPIRED}, (
        run.output()
    )  # as over http (test_partners)
    assert run.results["partner"].startswith("https://localhost:"), run.results["partner"]


def test_an_https_app_without_ca_file_is_a_configuration_error_at_once(tmp_path: Path) -> None:
    _, leaf, key = mkcert(tmp_path)
    started = time.monotonic()
    run = run_conformance(describe(tmp_path, leaf, key, ca_file=None), tmp_path / "report")

    assert run.process.returncode == 2, run.output()
    assert "partner.ca_file" in run.process.stderr
    assert "does not trust" in run.process.stderr
    assert time.monotonic() - started < 20  # not the 30 s readiness wait
    assert "Traceback" not in run.output()


def test_a_ca_file_that_did_not_issue_the_apps_certificate_is_named(tmp_path: Path) -> None:
    _, leaf, key = mkcert(tmp_path)
    other_ca, _, _ = mkcert(tmp_path / "other")
    run = run_conformance(describe(tmp_path, leaf, key, ca_file=str(other_ca)), tmp_path / "report")

    assert run.process.returncode == 2, run.output()
    assert "partner.ca_file: the app at https://localhost:" in run.process.stderr
    assert "does not vouch for" in run.process.stderr


@pytest.mark.parametrize(
    ("ca_file", "url", "message"),
    [
        ("missing.pem", "https://localhost:8443", "cannot read"),
        ("notes.txt", "https://localhost:8443", "no certificate in it"),
        ("rootCA.pem", "http://localhost:8000", "only for an https base_url"),
    ],
)
def test_ca_file_mistakes_are_named(tmp_path: Path, ca_file: str, url: str, message: str) -> None:
    mkcert(tmp_path)
    (tmp_path / "notes.txt").write_text("not a certificate", "utf-8")
    with pytest.raises(PartnerConfigError, match=message) as raised:
        parse({"partner": {"base_url": url, "ca_file": ca_file}}, source=tmp_path / "partner.toml")
    assert str(raised.value).startswith("partner.ca_file:")
