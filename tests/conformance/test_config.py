"""The partner description: every mistake names the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config import Action, PartnerConfigError, load

MINIMAL = """
[partner]
base_url = "http://127.0.0.1:8000"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partner.toml"
    path.write_text(text)
    return path


def test_a_minimal_description_gets_sensible_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL))
    assert config.start_login == Action("goto", "/login")
    assert config.redirect_uri == "http://127.0.0.1:8000/callback"
    assert config.needs_token == "/profile"
    assert config.logout is None
    assert not config.storage.declared
    assert config.client.scopes[:3] == ("openid", "AdobeID", "lr_partner_apis")


def test_actions_can_be_paths_posts_or_clicks(tmp_path: Path) -> None:
    text = MINIMAL + 'start_login = "click:#sign-in"\nlogout = "post:/logout"\n'
    config = load(write(tmp_path, text))
    assert config.start_login == Action("click", "#sign-in")
    assert config.logout == Action("post", "/logout")


def test_placeholders_are_filled_in_command_env_and_storage(tmp_path: Path) -> None:
    text = MINIMAL + (
        'command = "app --port {port}"\n'
        'env = { IMS = "{ims_url}", ID = "{client_id}", SECRET = "{client_secret}", CB = "{redirect_uri}", LR = "{lightroom_url}" }\n'
        '[storage]\nfiles = ["var/{client_id}.log"]\n'
    )
    config = load(write(tmp_path, text)).filled(
        {
            "ims_url": "http://127.0.0.1:9",
            "lightroom_url": "http://127.0.0.1:9",
            "client_id": "cid",
            "client_secret": "sec",
            "redirect_uri": "http://127.0.0.1:8000/callback",
            "base_url": "http://127.0.0.1:8000",
            "port": "8000",
        }
    )
    assert config.command == "app --port 8000"
    assert config.env == {
        "IMS": "http://127.0.0.1:9",
        "ID": "cid",
        "SECRET": "sec",
        "CB": "http://127.0.0.1:8000/callback",
        "LR": "http://127.0.0.1:9",
    }
    assert config.storage.files == ("var/cid.log",)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "[partner]"),
        ('[partner]\nbase_url = "ftp://x"\n', "partner.base_url"),
        (MINIMAL + "colour = 1\n", "partner.colour"),
        (MINIMAL + 'callback = "callback"\n', "partner.callback"),
        (MINIMAL + 'start_login = "login"\n', "partner.start_login"),
        (MINIMAL + 'logout = "click:"\n', "partner.logout"),
        (MINIMAL + "env = 5\n", "partner.env"),
        (MINIMAL + 'cwd = "does/not/exist"\n', "partner.cwd"),
        (MINIMAL + "[storage]\nfiles = 3\n", "storage.files"),
        (MINIMAL + '[storage]\nredis = ["localhost:6379"]\n', "storage.redis"),
        (MINIMAL + "[storage]\nmax_files = 0\n", "storage.max_files: must be a whole number of at least 1"),
        (MINIMAL + '[storage]\nmax_files = "10000"\n', "storage.max_files"),
        (MINIMAL + "[storage]\nmax_files = true\n", "storage.max_files"),
        (MINIMAL + '[storage]\nmax_bytes = "lots"\n', "storage.max_bytes: 'lots' is not a size"),
        (MINIMAL + '[storage]\nmax_bytes = "12 parsecs"\n', "storage.max_bytes"),
        (MINIMAL + "[storage]\nmax_bytes = -1\n", "storage.max_bytes: must be a size of at least 1 byte"),
        (MINIMAL + "[storage]\nmax_bytes = 1.5\n", "storage.max_bytes"),
        (MINIMAL + '[ims]\nurl = "http://127.0.0.1:8765"\n', "ims.client_id"),
        (MINIMAL + "[client]\nscopes = 1\n", "client.scopes"),
        (MINIMAL + "[extra]\n", "config.extra"),
        ("[partner\n", "invalid TOML"),
        # An empty value would silently mean the default, or a command that never starts.
        (MINIMAL + 'command = ""\n', "partner.command"),
        (MINIMAL + 'start_login = "  "\n', "partner.start_login"),
        (MINIMAL + 'logout = ""\n', "partner.logout"),
        (MINIMAL + '[storage]\ncommand = ""\n', "storage.command"),
        (MINIMAL + '[ims]\nurl = ""\n', "ims.url"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(PartnerConfigError) as error:
        load(write(tmp_path, text))
    assert key in str(error.value)


def test_the_scan_budget_has_defaults_and_takes_sizes_with_units(tmp_path: Path) -> None:
    default = load(write(tmp_path, MINIMAL)).storage
    assert (default.max_files, default.max_bytes) == (10_000, 1024**3)
    for written, size in (("2048", 2048), ('"512MB"', 512 * 10**6), ('"1GiB"', 1024**3), ('"64 kib"', 65536)):
        text = MINIMAL + f'[storage]\nfiles = ["var/{{client_id}}"]\nmax_files = 20\nmax_bytes = {written}\n'
        storage = load(write(tmp_path, text)).filled({"client_id": "cid"}).storage
        assert (storage.files, storage.max_files, storage.max_bytes) == (("var/cid",), 20, size), written


def test_an_unknown_placeholder_names_the_key(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL + 'command = "run {nope}"\n'))
    with pytest.raises(PartnerConfigError, match=r"partner.command: unknown placeholder \{nope\}"):
        config.filled({})


def test_port_zero_means_a_port_chosen_at_run_time(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[partner]\nbase_url = "http://127.0.0.1:0"\n'))
    assert config.port == 0
    moved = config.with_port(41234)
    assert moved.base_url == "http://127.0.0.1:41234"
    assert moved.redirect_uri == "http://127.0.0.1:41234/callback"


def test_real_hostnames_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert not load(write(tmp_path, MINIMAL)).real_hostnames
    assert load(write(tmp_path, MINIMAL + "real_hostnames = true\n")).real_hostnames


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + 'real_hostnames = "yes"\n', "partner.real_hostnames: must be true or false"),
        (
            MINIMAL + 'real_hostnames = true\n[ims]\nurl = "http://127.0.0.1:8765"\nclient_id = "x"\n',
            "partner.real_hostnames: needs the suite's own mock",
        ),
    ],
)
def test_real_hostnames_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PartnerConfigError, match=message):
        load(write(tmp_path, text))


def test_the_suites_client_may_use_every_ims_scope_by_default(tmp_path: Path) -> None:
    # An app's own extra scope (address, lr_partner_rendition_apis) must not be refused by the
    # suite's registration: that refusal would be the suite's doing, not the partner's.
    config = load(write(tmp_path, MINIMAL))
    assert {"address", "lr_partner_rendition_apis", "email", "profile", "offline_access"} <= set(
        config.client.scopes
    )


def test_a_client_registration_without_a_required_scope_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(PartnerConfigError, match=r"client\.scopes: must include lr_partner_apis"):
        load(write(tmp_path, MINIMAL + '[client]\nscopes = ["openid", "AdobeID"]\n'))


def test_double_braces_write_literal_braces_in_command_and_env(tmp_path: Path) -> None:
    text = MINIMAL + (
        "command = \"node -e 'console.log({{ port: {port} }})'\"\n"
        'env = { JSON = "{{\\"id\\": \\"{client_id}\\"}}" }\n'
    )
    config = load(write(tmp_path, text)).filled({"port": "8000", "client_id": "cid"})
    assert config.command == "node -e 'console.log({ port: 8000 })'"
    assert config.env == {"JSON": '{"id": "cid"}'}
