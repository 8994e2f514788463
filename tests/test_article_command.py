"""`/integration-status article <text>` end to end: a question in a person's own words, as Slack shows the answer."""

from __future__ import annotations

from typing import Any

from tests.blockkit import all_text
from tests.conftest import Bot
from tests.practice import UNPERMITTED


def _article_sections(answer: dict[str, Any]) -> list[str]:
    # The first section is the heading; each further one is an article.
    return [b["text"]["text"] for b in answer["blocks"][1:] if b["type"] == "section"]


async def test_a_question_in_own_words_lists_up_to_three_articles_best_first_with_why(bot: Bot) -> None:
    answer = await bot.slash("article unlink xero from autoentry")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Help Centre articles for “unlink xero from autoentry”"
    articles = _article_sections(answer)
    assert 1 < len(articles) <= 3
    first = articles[0]
    assert first.startswith("1. <https://help.autoentry.com/en/articles/4799340-")
    assert "|How to disconnect your integration>" in first
    assert "_Why: your words “unlink” (disconnect) in its title" in first
    assert "press Disconnect" in first  # the fix, in plain words
    for n, text in enumerate(articles, start=1):
        assert text.startswith(f"{n}. <https://help.autoentry.com/en/articles/")
        assert "_Why: " in text
    assert "search the Help Centre" not in all_text(answer).lower()


async def test_the_reported_2fa_description_finds_the_sync_app_article(bot: Bot) -> None:
    answer = await bot.slash("article the desktop connector wants a code since we switched on 2FA")
    first = _article_sections(answer)[0]
    assert "Using 2-factor authentication for Sync App users" in first
    assert "“desktop connector” (sync app)" in first and "“2fa” (two factor)" in first


async def test_a_question_the_lexical_tiers_have_no_article_for_gets_the_one_the_learned_classifier_is_sure_of(
    bot: Bot,
) -> None:
    answer = await bot.slash("article changed the supplier name in xero but autoentry still shows the old one")
    articles = _article_sections(answer)
    assert len(articles) == 1  # the lexical tiers have none to show beside it
    assert "/articles/12975458-" in articles[0]
    assert "_Why: worded like the questions people ask about it (learned classifier, " in articles[0]
    assert "search the Help Centre" not in all_text(answer).lower()


async def test_an_exact_message_still_gets_the_article_that_quotes_it(bot: Bot) -> None:
    answer = await bot.slash("article Invoice already exists in Xero. Add to Xero anyway.")
    first = _article_sections(answer)[0]
    assert "/articles/3950247-" in first
    assert '_Why: quotes "Invoice already exists in xxx. Add to xxx anyway."_' in first


async def test_text_no_article_is_about_gets_the_general_article_and_a_search_link(bot: Bot) -> None:
    answer = await bot.slash("article printer on the second floor is out of toner", user=UNPERMITTED)
    articles = _article_sections(answer)
    assert len(articles) == 1
    assert "/articles/12035205-" in articles[0]
    assert "No article is about this for sure; this is the general article." in articles[0]
    assert (
        "<https://help.autoentry.com/en/?q=printer+on+the+second+floor+is+out+of+toner|Search the Help Centre for it>"
        in articles[0]
    )


async def test_a_mention_a_channel_or_a_link_beside_a_question_changes_nothing(bot: Bot) -> None:
    # Slack sends them as plain text (should_escape: false) or as its markup; they name no article.
    alone = _article_sections(await bot.slash("article unlink xero from autoentry"))[0]
    for text in (
        "@bob unlink xero from autoentry",
        "#ops-team unlink xero from autoentry",
        "<@U0123ABC> unlink xero from autoentry",
        "unlink xero from autoentry https://app.autoentry.com/companies/42 <!here>",
    ):
        answer = await bot.slash(f"article {text}")
        assert _article_sections(answer)[0] == alone, text


async def test_a_pasted_help_centre_link_names_its_article_first(bot: Bot) -> None:
    link = "https://help.autoentry.com/en/articles/8540596-check-the-integration-status"
    answer = await bot.slash(f"article is this the one for xero? {link}")
    first = _article_sections(answer)[0]
    assert first.lstrip("1. ").startswith("<https://help.autoentry.com/en/articles/8540596-")
    assert "_Why: its Help Centre link is in your text_" in first


async def test_an_office_text_the_words_tie_to_an_article_gets_the_general_one_when_the_classifier_is_sure(
    bot: Bot,
) -> None:
    # "copy" and "invoice" are in Unpublish and republish's fix; the classifier knows an office errand.
    answer = await bot.slash("article send the client a copy of their invoice")
    text = all_text(answer)
    assert "/articles/8541259-" not in text
    assert "No article is about this for sure; this is the general article." in text
    assert "search the Help Centre" in text or "help.autoentry.com/en/?q=" in text
