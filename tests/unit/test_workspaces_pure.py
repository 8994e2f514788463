"""Which workspace a request belongs to, who may connect AutoEntry, the connect form, and the feed tokens'
encryption: pure functions, no I/O."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.secrets import TokenCipher, last_four, secret_key_problem
from bot.workspaces import SOURCE_BLOCK, TOKEN_BLOCK, connect_modal, may_connect, source_problem, submitted, workspace_of


def test_an_org_wide_install_is_one_workspace_for_the_whole_org() -> None:
    assert workspace_of("T1", "E1", True) == "E1"
    assert workspace_of("T1", "E1", False) == "T1"  # a workspace install inside an Enterprise Grid org
    assert workspace_of("T1", None, None) == "T1"
    assert workspace_of(None, None, None) is None and workspace_of("", "E1", False) is None


def test_only_the_installer_admins_and_owners_may_connect() -> None:
    assert may_connect("U1", "U1", False, False)
    assert may_connect("U2", "U1", True, False) and may_connect("U2", "U1", False, True)
    assert not may_connect("U2", "U1", False, False)
    assert not may_connect("", None, False, False)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("demo", None),
        ("https://status.example.com/api", None),
        ("http://127.0.0.1:8080", None),
        ("", "Enter the status API's address"),
        ("ftp://x", "not an http(s):// address"),
        ("https://", "not an http(s):// address"),
        ("https://a b", "not an http(s):// address"),
        ("https://x/" + "a" * 600, "longer than 500 characters"),
    ],
)
def test_a_status_source_is_demo_or_an_http_address(source: str, problem: str | None) -> None:
    found = source_problem(source)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_form_reads_back_what_was_typed_and_never_shows_the_token() -> None:
    view = {
        "state": {
            "values": {
                SOURCE_BLOCK: {"value": {"type": "plain_text_input", "value": " https://s.example/api/ "}},
                TOKEN_BLOCK: {"value": {"type": "plain_text_input", "value": " secret-token "}},
            }
        }
    }
    assert submitted(view) == ("https://s.example/api", "secret-token")
    assert submitted({}) == ("", "") and submitted({"state": {"values": {SOURCE_BLOCK: "x"}}}) == ("", "")
    modal = str(connect_modal("https://s.example/api", last_four("secret-token")))
    assert "…oken" in modal and "secret-token" not in modal


def test_tokens_are_encrypted_and_a_new_key_first_still_reads_the_old_ones() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenCipher(old).encrypt("feed-token")
    assert "feed-token" not in stored
    rotated = TokenCipher(f"{new},{old}")
    assert rotated.decrypt(stored) == "feed-token"
    again = rotated.rotate(stored)
    assert TokenCipher(new).decrypt(again) == "feed-token" and TokenCipher(old).decrypt(again) is None
    assert secret_key_problem(f"{new},{old}") is None and "key 1" in (secret_key_problem("nope") or "")
    assert last_four("abcd") == "" and last_four(None) == ""
