"""The local CA: made once in the data directory, its key private, its certificates verifiable."""

from __future__ import annotations

import datetime
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from mock_ims.cli.main import main
from mock_ims.tls.ca import CA_CERT, CA_DIR, CA_KEY, CAError, LocalCA, local_names


def verify(ca: LocalCA, leaf: x509.Certificate, name: str) -> None:
    """RFC 5280 path validation for a TLS server called `name`, as a strict client does it."""
    verifier = PolicyBuilder().store(Store([ca.certificate])).build_server_verifier(x509.DNSName(name))
    verifier.verify(leaf, [])


def test_the_ca_is_made_once_in_the_data_directory_and_reused(tmp_path: Path) -> None:
    first = LocalCA.load_or_create(tmp_path)
    second = LocalCA.load_or_create(tmp_path)
    assert first.cert_path == tmp_path / CA_DIR / CA_CERT
    assert first.pem() == second.pem()
    assert first.spki_sha256() == second.spki_sha256()


def test_the_ca_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    LocalCA.load_or_create(tmp_path)
    mode = stat.S_IMODE((tmp_path / CA_DIR / CA_KEY).stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((tmp_path / CA_DIR).stat().st_mode) == 0o700


def test_processes_racing_to_make_the_ca_end_up_with_one(tmp_path: Path) -> None:
    made: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: made.append(LocalCA.load_or_create(tmp_path).pem())) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 6
    assert len(set(made)) == 1


def test_the_ca_is_a_ca_limited_to_signing_server_certificates(tmp_path: Path) -> None:
    ca = LocalCA.load_or_create(tmp_path)
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    usage = ca.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign


def test_a_leaf_for_an_intercepted_host_verifies_for_that_host_only(tmp_path: Path) -> None:
    ca = LocalCA.load_or_create(tmp_path)
    leaf = ca.issue(("ims-na1.adobelogin.com",))
    verify(ca, leaf, "ims-na1.adobelogin.com")
    with pytest.raises(VerificationError):
        verify(ca, leaf, "lr.adobe.io")


def test_a_leaf_does_not_verify_against_another_ca(tmp_path: Path) -> None:
    ca = LocalCA.load_or_create(tmp_path / "one")
    other = LocalCA.load_or_create(tmp_path / "two")
    with pytest.raises(VerificationError):
        verify(other, ca.issue(("lr.adobe.io",)), "lr.adobe.io")


def test_a_leaf_for_the_mock_itself_names_localhost_and_the_loopback_addresses(tmp_path: Path) -> None:
    ca = LocalCA.load_or_create(tmp_path)
    leaf = ca.issue(local_names("127.0.0.1"))
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    verify(ca, leaf, "localhost")


def test_leaves_stay_under_the_browsers_398_day_limit(tmp_path: Path) -> None:
    leaf = LocalCA.load_or_create(tmp_path).issue(("lr.adobe.io",))
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(days=398)


def test_leaf_files_are_minted_once_and_hold_the_chain(tmp_path: Path) -> None:
    ca = LocalCA.load_or_create(tmp_path)
    files = ca.leaf_files(("lr.adobe.io",))
    assert ca.leaf_files(("lr.adobe.io",)) is files
    chain = x509.load_pem_x509_certificates(files.cert.read_bytes())
    assert [c.subject for c in chain][1] == ca.certificate.subject
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_a_certificate_that_does_not_match_the_key_is_named(tmp_path: Path) -> None:
    LocalCA.load_or_create(tmp_path / "one")
    LocalCA.load_or_create(tmp_path / "two")
    (tmp_path / "one" / CA_DIR / CA_CERT).write_bytes((tmp_path / "two" / CA_DIR / CA_CERT).read_bytes())
    with pytest.raises(CAError, match=r"ca\.pem was not made with .*ca-key\.pem"):
        LocalCA.load_or_create(tmp_path / "one")


def test_ca_print_path_names_the_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ca", "--data-dir", str(tmp_path), "--print-path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / CA_DIR / CA_CERT)


def test_ca_export_writes_the_certificate_and_never_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "exported.pem"
    assert main(["ca", "--data-dir", str(tmp_path / "data"), "--export", str(target)]) == 0
    text = target.read_text()
    assert text == LocalCA.load_or_create(tmp_path / "data").pem().decode()
    assert "PRIVATE KEY" not in text


def test_ca_print_spki_is_the_hash_chromium_takes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ca", "--data-dir", str(tmp_path), "--print-spki"]) == 0
    assert capsys.readouterr().out.strip() == LocalCA.load_or_create(tmp_path).spki_sha256()


def test_ca_export_to_an_unwritable_place_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-dir" / "ca.pem"
    assert main(["ca", "--data-dir", str(tmp_path), "--export", str(target)]) == 2
    assert f"cannot write {target}" in capsys.readouterr().err
