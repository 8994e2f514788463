"""`/integration-status` end to end: signed requests to the real app, answers as Slack shows them."""

from __future__ import annotations

import pytest

from tests.blockkit import all_text, buttons, mrkdwn_texts
from tests.conftest import BACKENDS, Bot
from tests.practice import PERMITTED, STRANGER, UNPERMITTED


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_card_for_a_company_in_synchronisation_error_shows_everything_to_the_holder(bot: Bot) -> None:
    answer = await bot.slash("Acme Ltd")
    text = all_text(answer)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Acme Ltd: Home page status: Error")
    for expected in (
        "Sage 50",
        "Home page status: Error",
        "Inbox documents with a triangle*\n2",
        "Synchronisation",
        "Token Required",
        "Offline (not running)",
        "RECEPTION-PC",
        "2026-11-25 09:58 UTC",
        "Restart the Desktop Sync App on RECEPTION-PC",
        "Don't disconnect and reconnect by reflex",
        "https://help.autoentry.com/en/articles/5356013",
    ):
        assert expected in text, expected
    assert not any(b["action_id"] == "remind_account_holder" for b in buttons(answer))


@pytest.mark.parametrize(
    ("name", "must_show", "must_not_show"),
    [
        ("Bright & Sons", ["Home page status: Integrated", "Nothing to do"], ["Desktop Sync App", "Exact error"]),
        (
            "Carter Plumbing Ltd",
            ["Home page status: Error", "Publication", "Invoice/Bill Already Exists in Xero", "triangle"],
            ["Desktop Sync App"],
        ),
        (
            "Dunmore Dental Practice",
            ["Home page status: Not integrated", "Reconnect", "QuickBooks Online"],
            ["Exact error"],
        ),
        ("Evergreen Gardens Limited", ["Home page status: Integrated", "Running", "OFFICE-PC-2"], ["Restart"]),
        (
            "Fenwick & Hale LLP",
            ["Home page status: Integrated", "Offline (not running)", "Restart the Desktop Sync App on JOHN-LAPTOP"],
            ["Nothing to do"],
        ),
        ("Greenway Cafe", ["1 document in the Inbox has a triangle"], ["Nothing to do"]),
    ],
)
async def test_card_for_every_state(bot: Bot, name: str, must_show: list[str], must_not_show: list[str]) -> None:
    text = all_text(await bot.slash(name))
    for expected in must_show:
        assert expected in text, expected
    for unexpected in must_not_show:
        assert unexpected not in text, unexpected
    assert "help.autoentry.com" in text


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_a_permitted_user_sees_details_of_their_companies_only(bot: Bot) -> None:
    acme = all_text(await bot.slash("Acme Ltd", user=PERMITTED))
    assert "Token Required" in acme and "RECEPTION-PC" in acme
    fenwick = await bot.slash("Fenwick & Hale LLP", user=PERMITTED)
    text = all_text(fenwick)
    assert "JOHN-LAPTOP" not in text and "Desktop Sync App*" not in text
    assert "Home page status: Integrated" in text
    assert [b["text"]["text"] for b in buttons(fenwick)] == ["Remind account holder to grant permission"]


async def test_a_user_without_the_permission_sees_the_home_page_level_and_a_remind_button(bot: Bot) -> None:
    answer = await bot.slash("Acme Ltd", user=UNPERMITTED)
    text = all_text(answer)
    assert "Home page status: Error" in text
    assert "Sage 50" in text and "Inbox documents with a triangle*\n2" in text
    for secret in ("Token Required", "RECEPTION-PC", "Synchronisation", "Offline"):
        assert secret not in text, secret
    (remind,) = buttons(answer)
    assert remind["text"]["text"] == "Remind account holder to grant permission"
    assert remind["value"] == "c_1"
    assert "Company settings permission" in text


async def test_a_slack_user_who_is_not_an_account_user_sees_the_home_page_level_only(bot: Bot) -> None:
    answer = await bot.slash("Acme Ltd", user=STRANGER)
    text = all_text(answer)
    assert "Home page status: Error" in text
    assert "Token Required" not in text and "RECEPTION-PC" not in text
    assert buttons(answer) == []
    assert "not one of this practice's AutoEntry users" in text


async def test_the_email_of_a_slack_user_is_looked_up_once_and_cached(bot: Bot) -> None:
    await bot.slash("Acme Ltd", user=PERMITTED)
    await bot.slash("Bright & Sons", user=PERMITTED)
    await bot.slash("list", user=PERMITTED)
    assert [call.args["user"] for call in bot.slack.of("users.info")] == [PERMITTED[0]]


@pytest.mark.parametrize(
    ("typed", "company"),
    [
        ("acme ltd", "Acme Ltd"),
        ("ACME LIMITED", "Acme Ltd"),
        ("Acme Ltd.", "Acme Ltd"),
        ("acme", "Acme Ltd"),
        ("Bright and Sons", "Bright & Sons"),
        ("Bright &amp; Sons", "Bright & Sons"),
        ("brigth & sons", "Bright & Sons"),
        ("carter plumbing", "Carter Plumbing Ltd"),
        ("Carter Plumbng", "Carter Plumbing Ltd"),
        ("dunmore", "Dunmore Dental Practice"),
        ("evergreen gardens ltd", "Evergreen Gardens Limited"),
        ("Fenwick and Hale", "Fenwick & Hale LLP"),
        ("  greenway   cafe ", "Greenway Cafe"),
        ('"List Brothers Ltd"', "List Brothers Ltd"),
        ("“List Brothers”", "List Brothers Ltd"),
    ],
)
async def test_forgiving_lookup(bot: Bot, typed: str, company: str) -> None:
    answer = await bot.slash(typed)
    assert answer["text"].startswith(company.replace("&", "&amp;") + ":"), answer["text"]


async def test_several_close_matches_give_a_pick_list_whose_buttons_open_the_card(bot: Bot) -> None:
    answer = await bot.slash("acme h")
    assert answer["text"].startswith("Acme Holdings Ltd:")
    answer = await bot.slash("ac")
    assert "Which one?" in answer["text"]
    names = {b["text"]["text"]: b for b in buttons(answer)}
    assert {"Acme Ltd", "Acme Holdings Ltd"} <= set(names)
    pressed = names["Acme Ltd"]
    response = await bot.click(pressed["action_id"], pressed["value"])
    assert response.status == 200
    (reply,) = await bot.slack.wait_for_responses()
    assert reply.args["replace_original"] is True
    assert reply.args["text"].startswith("Acme Ltd: Home page status: Error")
    assert "Token Required" in all_text(reply.args)


async def test_an_unknown_name_gives_the_nearest_suggestions(bot: Bot) -> None:
    answer = await bot.slash("Greenwich Caff")
    assert answer["text"] == "No company called “Greenwich Caff” in this practice."
    assert "Greenway Cafe" in [b["text"]["text"] for b in buttons(answer)]
    nothing = await bot.slash("zzqxj")
    assert buttons(nothing) == []
    assert "list" in all_text(nothing)


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
async def test_help_gives_usage(bot: Bot, text: str) -> None:
    answer = await bot.slash(text)
    assert "How to use /integration-status" in all_text(answer)
    assert "subscribe" in all_text(answer)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x" * 501, "at most 500"),
        ('""', "quotes are empty"),
        ("list everything", "`list` takes nothing or `errors`"),
        ("article", "exact error message"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(bot: Bot, text: str, problem: str) -> None:
    before = bot.services.store.db.execute("select count(*) from poll_runs").fetchone()
    answer = await bot.slash(text)
    assert problem in all_text(answer)
    assert bot.services.store.db.execute("select count(*) from poll_runs").fetchone() == before


@pytest.mark.parametrize("text", ["\u200b\u200b", "Acme\x00Ltd", "🙂🙂🙂", "Ａｃｍｅ Ｌｔｄ", "ĀĆMĒ"])
async def test_odd_unicode_never_crashes(bot: Bot, text: str) -> None:
    answer = await bot.slash(text)
    assert answer["text"]


async def test_list_shows_the_practice_at_a_glance(bot: Bot) -> None:
    answer = await bot.slash("list")
    text = all_text(answer)
    assert "10 companies: 6 integrated, 3 in error, 1 not integrated, 2 Sync Apps offline" in text
    assert text.index("Acme Ltd") < text.index("Dunmore Dental Practice") < text.index("Bright &amp; Sons")
    errors = all_text(await bot.slash("list errors"))
    assert "Acme Ltd" in errors and "Dunmore Dental Practice" in errors and "Fenwick" in errors
    assert "Bright" not in errors


async def test_list_for_a_user_without_permission_hides_sync_apps(bot: Bot) -> None:
    text = all_text(await bot.slash("list errors", user=UNPERMITTED))
    assert "Fenwick" not in text and "JOHN-LAPTOP" not in text
    assert "Acme Ltd" in text


async def test_feed_text_reaches_no_mrkdwn_unescaped(bot: Bot) -> None:
    answer = await bot.slash("Evil & Co")
    blob = "\n".join(mrkdwn_texts(answer))
    assert "<!channel>" not in blob and "<@U_HOLDER>" not in blob and "<!here>" not in blob
    assert "<http://evil.example" not in blob
    assert "&lt;@U_HOLDER&gt; &lt;!here&gt;" in blob
    assert "&lt;!channel&gt; Evil &amp; Co" in answer["text"]
    # header blocks are plain text: Slack shows them as they are, and they ping nobody
    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "<!channel> Evil & Co", "emoji": False},
    }
    for text in ("list", "evil", "Evil Co"):
        assert "<!channel>" not in "\n".join(mrkdwn_texts(await bot.slash(text)))


async def test_answers_are_valid_block_kit(bot: Bot) -> None:
    from slack_sdk.models.blocks import Block

    for text in ("Acme Ltd", "list", "ac", "zzqxj", "help", "Evil & Co"):
        answer = await bot.slash(text, user=UNPERMITTED)
        assert len(answer["blocks"]) <= 50
        for block in answer["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]


async def test_usage_shows_its_placeholders_escaped(bot: Bot) -> None:
    answer = await bot.slash("article " + "x" * 600)
    blob = "\n".join(mrkdwn_texts(answer))
    assert "&lt;error message or question&gt;" in blob and "<error" not in blob
