"""The join page: a bare ``host:port`` or host works (https assumed, http for this computer only), and a failure
says exactly what went wrong while keeping what was typed."""

from __future__ import annotations

import pytest

from desktop.domain.onboarding import AddressProblem, Step, server_address
from sync.server.embedded import free_port
from tests.test_app import PASSPHRASE


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("127.0.0.1:8471", "http://127.0.0.1:8471"),
        ("localhost:8470", "http://localhost:8470"),
        ("[::1]:8470", "http://[::1]:8470"),
        ("mentors.example.org", "https://mentors.example.org"),
        (" mentors.example.org:8443/osler/ ", "https://mentors.example.org:8443/osler"),
        ("https://mentors.example.org", "https://mentors.example.org"),
        ("http://127.0.0.1:8471", "http://127.0.0.1:8471"),
    ],
)
def test_addresses_people_type(typed: str, url: str) -> None:
    assert server_address(typed) == url


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the server address"),
        ("http://mentors.example.org", "plain http"),
        ("mentors.example.org:84x0", "port after “:” must be a number"),
        ("mentors.example.org:99999", "port after “:” must be a number"),
        ("mentors example org", "no spaces"),
        ("ftp://mentors.example.org", "does not look like a web address"),
    ],
)
def test_addresses_that_cannot_work_are_explained(typed: str, says: str) -> None:
    with pytest.raises(AddressProblem) as problem:
        server_address(typed)
    assert says in problem.value.message


def test_join_with_host_and_port_typed_bare(make_app, server) -> None:
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.join(server.url.removeprefix("http://"), server.invite("mentor"))
    assert page.on_onboarding(Step.PROFILE), page.error()


def test_nothing_listening_is_named_and_both_fields_are_kept(make_app) -> None:
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    address = f"127.0.0.1:{free_port()}"
    page.join(address, "ABCD-EFGH-JKLM")
    assert page.on_onboarding(Step.JOIN)
    assert f"Nothing answers at {address}" in page.error()
    assert "Offline" not in page.error()
    assert page.screen.server_url.text() == address
    assert page.screen.invite.text() == "ABCD-EFGH-JKLM"


def test_https_to_a_plain_server_says_no_secure_connection(make_app, server) -> None:
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    typed = server.url.replace("http://", "https://")
    page.join(typed, "ABCD-EFGH-JKLM")
    assert page.on_onboarding(Step.JOIN)
    assert "No secure (https) connection" in page.error()
    assert page.screen.server_url.text() == typed


def test_a_bad_invite_keeps_the_address(make_app) -> None:
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.join("mentors.example.org", "nope")
    assert "invite code is 12 letters" in page.error()
    assert page.screen.server_url.text() == "mentors.example.org"
    assert page.screen.invite.text() == "nope"
