"""The App Home tab: the pure view (bot/home/view.py), then signed events and Home tab buttons end to end."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View

from bot.home import refresh as home_refresh
from bot.home.view import (
    HOME_BLOCK_LIMIT,
    PAGE_SIZE,
    HomeFilter,
    HomeHealth,
    HomeState,
    card_modal,
    home_lines,
    home_view,
)
from bot.practice.models import (
    Account,
    AccountUser,
    Person,
    StoredCompany,
    parse_company,
)
from bot.practice.permissions import Viewer, viewer_for
from bot.slack.blockkit import Message, section
from tests.blockkit import all_text, mrkdwn_texts
from tests.conftest import SHARED, Bot, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import Call, FakeSlack
from tests.practice import (
    ACCOUNT,
    COMPANIES,
    HOLDER,
    PERMITTED,
    STRANGER,
    UNPERMITTED,
    company,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
HEALTHY = HomeHealth(last_poll_at=NOW, checked_at=NOW, problem=None, healthy=True)


# --- helpers -----------------------------------------------------------------------------------


@dataclass
class Sub:
    channel: str
    company_id: str | None
    created_by: str = "U_HOLDER"
    created_at: datetime = NOW


@dataclass
class Snooze:
    channel: str
    company_id: str
    until: datetime
    by_user: str = "U_HOLDER"


def account() -> Account:
    users = tuple(
        AccountUser(
            name=user["name"],
            email=user["email"],
            all_companies=user["company_settings"] == "all",
            company_ids=frozenset(() if user["company_settings"] == "all" else user["company_settings"]),
        )
        for user in ACCOUNT["users"]
    )
    return Account(ACCOUNT["id"], ACCOUNT["name"], Person("Jane Smith", "jane@smithco.example"), users)


def stored(records: list[dict[str, Any]]) -> list[StoredCompany]:
    since = NOW - timedelta(hours=3)
    return [StoredCompany(parse_company(record), since, since) for record in records]


def viewer(person: tuple[str, str, str]) -> Viewer:
    return viewer_for(account(), person[0], person[1])


def render(person: tuple[str, str, str], records: list[dict[str, Any]] = COMPANIES, **kwargs: Any) -> dict[str, Any]:
    companies = stored(records)
    who = viewer(person)
    options: dict[str, Any] = dict(
        viewer_is_account_user=who.is_account_user,
        subscriptions=[],
        snoozes=[],
        names={c.id: c.name for c in companies},
        health=HEALTHY,
        state=HomeState(),
        now=NOW,
    )
    options.update(kwargs)
    return home_view(home_lines(companies, who), **options)


def assert_valid(view: dict[str, Any]) -> None:
    """Slack's limits, as slack_sdk knows them, and the ones it does not check."""
    View(**view).validate_json()
    assert len(view["blocks"]) <= HOME_BLOCK_LIMIT
    action_ids: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                assert len(node["text"]) <= 3000
            if node.get("type") == "button":
                assert len(node["text"]["text"]) <= 75
                action_ids.append(node["action_id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view["blocks"])
    assert len(action_ids) == len(set(action_ids)), "action_ids must be unique in a view"
    for accessory in card_buttons(view):
        assert accessory["accessibility_label"].startswith("Open the status card of ")


def card_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block["accessory"]
        for block in view["blocks"]
        if block.get("accessory", {}).get("action_id", "").startswith("open_status_card:")
    ]


def button(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no button {action_id}")


def home_event(user: tuple[str, str, str], tab: str = "home", blocks: list[Any] | None = None) -> dict[str, Any]:
    """A real app_home_opened event (../shared/slack), read in place, for this user."""
    event = json.loads((SHARED / "slack" / "composed.event_callback.app_home_opened.home_tab.json").read_text())["event"]
    event["user"] = user[0]
    event["tab"] = tab
    event["view"]["blocks"] = [] if blocks is None else blocks
    return event


async def home_click(bot: Bot, action_id: str, value: str, user: tuple[str, str, str] = HOLDER) -> None:
    """A button pressed on the Home tab: container type "view", a trigger_id, and no response_url."""
    template = json.loads((SHARED / "slack" / "bolt-python.block_actions.button.json").read_text())
    template.pop("response_url")
    template.pop("channel")
    template["user"] = {"id": user[0], "username": user[2], "name": user[2], "team_id": "T0G9PQBBK"}
    template["team"]["id"] = "T0G9PQBBK"
    template["container"] = {"type": "view", "view_id": "V123ABC456"}
    template["view"] = {"id": "V123ABC456", "type": "home", "blocks": [], "private_metadata": "", "hash": "1.2"}
    template["actions"] = [
        {
            "action_id": action_id,
            "block_id": "b",
            "value": value,
            "type": "button",
            "action_ts": "1.2",
            "text": {"type": "plain_text", "text": "Button"},
        }
    ]
    response = await bot.post(urlencode({"payload": json.dumps(template)}), "application/x-www-form-urlencoded")
    assert response.status == 200


async def open_home(bot: Bot, slack: FakeSlack, user: tuple[str, str, str] = HOLDER, **kwargs: Any) -> dict[str, Any]:
    before = len(slack.of("views.publish"))
    response = await bot.event(home_event(user, **kwargs))
    assert response.status == 200
    calls = await slack.wait_for_calls("views.publish", before + 1)
    call = calls[-1]
    assert call.args["user_id"] == user[0]
    return call.args["view"]


def as_answer(view: dict[str, Any]) -> dict[str, Any]:
    return {"text": "", "blocks": view["blocks"]}


def many_companies(count: int) -> list[dict[str, Any]]:
    states: list[dict[str, Any]] = [
        dict(integration_status="error", error={"kind": "synchronisation", "message": "<!here> " + "x&<" * 600}),
        dict(integration_status="not_integrated"),
        dict(sync_app={"status": "offline", "location": "PC-" + "<" * 50, "last_seen_at": "2026-11-25T09:00:00Z"}),
        dict(),
    ]
    return [
        company(f"m_{i}", f"Company {i:04d} " + "&<>" * 60, **states[i % len(states)])  # names near 200 chars
        for i in range(count)
    ]


# --- the view, pure --------------------------------------------------------------------------


def test_holder_sees_counts_attention_first_and_every_detail() -> None:
    view = render(HOLDER)
    assert_valid(view)
    text = all_text(as_answer(view))
    assert "10 companies: 6 integrated, 3 in error, 1 not integrated, 2 Sync Apps offline" in text
    order = [b["value"] for b in card_buttons(view)]
    # Errors, then Sync App offline on an integrated company, then not integrated; then the others.
    assert order[:5] == ["c_9", "c_1", "c_3", "c_6", "c_4"]
    assert sorted(order) == sorted(c["id"] for c in COMPANIES)
    assert text.index("Needs attention") < text.index("Acme Ltd") < text.index("Everything else") < text.index("Bright")
    for detail in ("Token Required", "Synchronisation error", "RECEPTION-PC", "JOHN-LAPTOP", "Publication error"):
        assert detail in text, detail
    assert "Error since <!date^" in text  # since when, in each reader's time zone
    assert "The status feed is healthy" in text


def test_without_the_permission_only_the_home_page_level_shows() -> None:
    for person in (UNPERMITTED, STRANGER):
        view = render(person)
        assert_valid(view)
        text = all_text(as_answer(view))
        for secret in ("Token Required", "Synchronisation", "RECEPTION-PC", "JOHN-LAPTOP", "Sync App offline", "evil.example"):
            assert secret not in text, (person, secret)
        assert "Sync App" not in text.split("\n")[1]  # the counts: no Sync App figure either
        # Fenwick's Sync App is hidden, so at the Home page level it is one of the others.
        order = [b["value"] for b in card_buttons(view)]
        assert order.index("c_6") > order.index("c_4")
    assert "not one of this practice's AutoEntry users" in all_text(as_answer(render(STRANGER)))
    assert "need the Company settings permission" in all_text(as_answer(render(UNPERMITTED)))


def test_permitted_user_sees_details_only_where_permitted() -> None:
    text = all_text(as_answer(render(PERMITTED)))  # Company settings on c_1 and c_7
    assert "Token Required" in text and "RECEPTION-PC" in text
    assert "Invoice/Bill Already Exists" not in text and "JOHN-LAPTOP" not in text


def test_untrusted_names_and_messages_are_escaped() -> None:
    view = render(HOLDER)
    for text in mrkdwn_texts(as_answer(view)):
        assert "<!channel>" not in text and "<@U_HOLDER>" not in text and "<!here>" not in text
        assert "<http://evil" not in text
    assert "&lt;!channel&gt; Evil &amp; Co" in all_text(as_answer(view))


def test_subscriptions_and_snoozes_show_channels_and_company_names() -> None:
    view = render(
        HOLDER,
        subscriptions=[Sub("C_OPS", None), Sub("C123", "c_9"), Sub("C9", "gone")],
        snoozes=[Snooze("C123", "c_1", NOW + timedelta(hours=1))],
    )
    assert_valid(view)
    text = all_text(as_answer(view))
    assert "<#C_OPS>: every company" not in text  # not a channel id shape: shown escaped, never a mention
    assert "C_OPS" in text
    assert "<#C123>: &lt;!channel&gt; Evil &amp; Co" in text
    assert "<#C9>: a company no longer in the practice" in text
    assert "Acme Ltd in <#C123> until <!date^" in text
    empty = all_text(as_answer(render(HOLDER)))
    assert "subscribe all" in empty and "Your snoozes" not in empty


def test_feed_problem_and_first_poll_show_in_the_footer() -> None:
    broken = HomeHealth(last_poll_at=NOW, checked_at=NOW - timedelta(hours=1), problem="HTTP 502 <b>", healthy=False)
    text = all_text(as_answer(render(HOLDER, health=broken)))
    assert "cannot be read right now (HTTP 502 &lt;b&gt;)" in text and "healthy" not in text
    never = HomeHealth(None, None, None, False)
    text = all_text(as_answer(render(HOLDER, records=[], health=never)))
    assert "not been read yet" in text and "No companies yet" in text


@pytest.mark.parametrize(
    "state",
    [HomeState(HomeFilter.ALL, p) for p in (0, 3, 39, 40, 999)] + [HomeState(HomeFilter.ATTENTION, p) for p in (0, 29, 500)],
)
def test_a_thousand_companies_stay_within_slacks_limits(state: HomeState) -> None:
    records = many_companies(1000)
    many_subs = [Sub(f"C{i:05d}", f"m_{i}") for i in range(500)]
    many_snoozes = [Snooze(f"C{i:05d}", f"m_{i}", NOW + timedelta(hours=1)) for i in range(500)]
    view = render(HOLDER, records, state=state, subscriptions=many_subs, snoozes=many_snoozes)
    assert_valid(view)
    assert len(card_buttons(view)) == PAGE_SIZE
    text = all_text(as_answer(view))
    assert "more" in text  # "and N more" for the companies and the long lists
    shown = HomeState.decode(view["private_metadata"])
    assert shown.filter is state.filter and shown.page <= (999 if state.filter is HomeFilter.ALL else 749) // PAGE_SIZE


def test_paging_buttons_carry_the_state() -> None:
    records = many_companies(60)
    first = render(HOLDER, records)
    assert "Showing 1–25 of 60, and 35 more." in all_text(as_answer(first))
    following = HomeState.decode(button(first, "home_page:next")["value"])
    assert following == HomeState(HomeFilter.ALL, 1)
    with pytest.raises(AssertionError):
        button(first, "home_page:prev")
    last = render(HOLDER, records, state=HomeState(HomeFilter.ALL, 2))
    assert "Showing 51–60 of 60." in all_text(as_answer(last))
    assert HomeState.decode(button(last, "home_page:prev")["value"]) == HomeState(HomeFilter.ALL, 1)
    attention = HomeState.decode(button(last, "home_filter:attention")["value"])
    assert attention == HomeState(HomeFilter.ATTENTION, 0)
    assert button(last, "home_filter:all").get("style") == "primary"


@pytest.mark.parametrize(
    "value", ["", "nonsense", "[]", '{"f":"all"}', '{"f":"x","p":1}', '{"f":"all","p":"2"}', '{"f":"all","p":true}', None]
)
def test_odd_button_values_give_the_default_view(value: Any) -> None:
    assert HomeState.decode(value) == HomeState()
    assert HomeState.decode('{"f":"attention","p":-4}') == HomeState(HomeFilter.ATTENTION, 0)


def test_nothing_needing_attention_says_so() -> None:
    view = render(HOLDER, [company("c_2", "Bright & Sons")], state=HomeState(HomeFilter.ATTENTION, 0))
    assert "Nothing needs attention" in all_text(as_answer(view))


def test_card_modal_fits_a_modal() -> None:
    modal = card_modal(Message("Acme", [section("*Acme*")]))
    View(**modal).validate_json()
    assert len(modal["title"]["text"]) <= 24 and "text" not in modal


# --- end to end ------------------------------------------------------------------------------


async def test_opening_the_home_tab_publishes_the_viewers_view(bot: Bot, slack: FakeSlack) -> None:
    view = await open_home(bot, slack, HOLDER)
    assert_valid(view)
    text = all_text(as_answer(view))
    assert "10 companies" in text and "Token Required" in text and "JOHN-LAPTOP" in text
    assert "Last poll <!date^" in text and "healthy" in text

    view = await open_home(bot, slack, UNPERMITTED)
    assert_valid(view)
    text = all_text(as_answer(view))
    assert "Token Required" not in text and "JOHN-LAPTOP" not in text and "Sync App offline" not in text


async def test_the_viewers_own_subscriptions_and_snoozes_show(bot: Bot, slack: FakeSlack, clock: FakeClock) -> None:
    store = bot.services.store
    store.subscribe("C0ALERTS", None, HOLDER[0], clock.now)
    store.subscribe("C0ACME", "c_1", HOLDER[0], clock.now)
    store.subscribe("C0OTHER", "c_3", PERMITTED[0], clock.now)  # someone else's
    store.snooze("C0ACME", "c_1", clock.now + timedelta(hours=1), HOLDER[0], clock.now)
    store.snooze("C0ACME", "c_4", clock.now - timedelta(hours=1), HOLDER[0], clock.now)  # over
    text = all_text(as_answer(await open_home(bot, slack, HOLDER)))
    assert "<#C0ALERTS>: every company" in text and "<#C0ACME>: Acme Ltd" in text
    assert "C0OTHER" not in text
    assert "Acme Ltd in <#C0ACME> until" in text and "Dunmore" not in text.split("Your snoozes")[1]


async def test_the_messages_tab_publishes_nothing(bot: Bot, slack: FakeSlack) -> None:
    await bot.event(home_event(HOLDER, tab="messages"))
    await open_home(bot, slack, PERMITTED)  # a later event is handled, so the first one was too
    assert [call.args["user_id"] for call in slack.of("views.publish")] == [PERMITTED[0]]


async def test_a_big_practice_stays_within_the_limits(bot: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock) -> None:
    feed.companies = many_companies(1000)
    clock.advance(seconds=60)
    assert (await bot.poll()).ok
    clock.advance(days=1)  # the practice's ten first companies stay listed for a day after they left the feed
    assert (await bot.poll()).ok
    view = await open_home(bot, slack)
    assert_valid(view)
    assert "Showing 1–25 of 1000, and 975 more." in all_text(as_answer(view))
    await home_click(bot, "home_page:next", button(view, "home_page:next")["value"])
    view = (await slack.wait_for_calls("views.publish", 2))[-1].args["view"]
    assert_valid(view)
    assert "Showing 26–50 of 1000" in all_text(as_answer(view))


async def test_filter_and_paging_buttons_republish(bot: Bot, slack: FakeSlack) -> None:
    view = await open_home(bot, slack)
    await home_click(bot, "home_filter:attention", button(view, "home_filter:attention")["value"])
    view = (await slack.wait_for_calls("views.publish", 2))[-1].args["view"]
    assert_valid(view)
    assert [b["value"] for b in card_buttons(view)] == ["c_9", "c_1", "c_3", "c_6", "c_4"]
    assert "Everything else" not in all_text(as_answer(view))
    # kept for refreshes (stored once Slack has answered the publish)
    await slack.wait_for(lambda: bot.services.store.home_viewer(HOLDER[0]).filter == "attention")
    await home_click(bot, "home_page:next", "garbage")
    view = (await slack.wait_for_calls("views.publish", 3))[-1].args["view"]
    assert len(card_buttons(view)) == 10  # an odd value gives the default view


@pytest.mark.parametrize(
    ("person", "shows", "hides"),
    [
        (HOLDER, ["Token Required", "RECEPTION-PC"], []),
        (UNPERMITTED, ["Home page status: Error", "Remind account holder"], ["Token Required", "RECEPTION-PC"]),
        (STRANGER, ["Home page status: Error"], ["Token Required", "RECEPTION-PC", "Remind account holder"]),
    ],
)
async def test_the_company_button_opens_the_card_in_a_modal(
    bot: Bot, slack: FakeSlack, person: tuple[str, str, str], shows: list[str], hides: list[str]
) -> None:
    view = await open_home(bot, slack, person)
    acme = next(b for b in card_buttons(view) if b["value"] == "c_1")
    await home_click(bot, acme["action_id"], acme["value"], user=person)
    call = (await slack.wait_for_calls("views.open"))[0]
    assert call.args["trigger_id"] == "111.222.valid"
    modal = call.args["view"]
    View(**modal).validate_json()
    assert modal["type"] == "modal" and len(modal["title"]["text"]) <= 24
    expected = bot.services.status.card("c_1", viewer(person))
    assert expected is not None and modal["blocks"] == expected.blocks
    text = all_text(as_answer(modal))
    assert all(s in text for s in shows) and not any(h in text for h in hides)
    assert slack.responses == []  # nothing to a response_url: there is none


def publishes_for(slack: FakeSlack, user_id: str) -> list[Call]:
    return [call for call in slack.of("views.publish") if call.args["user_id"] == user_id]


async def test_a_changing_poll_refreshes_recent_viewers(bot: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock) -> None:
    await open_home(bot, slack, HOLDER)
    clock.advance(seconds=61)
    await bot.poll()  # nothing changed: nothing published
    assert len(slack.of("views.publish")) == 1
    feed.update("c_2", integration_status="not_integrated")
    clock.advance(seconds=61)
    await bot.poll()  # the hook runs inside poll_once: the publish has happened
    calls = publishes_for(slack, HOLDER[0])
    assert len(calls) == 2
    text = all_text(as_answer(calls[-1].args["view"]))
    assert "Bright &amp; Sons*\nNot integrated since" in text


async def test_refreshes_are_throttled_per_viewer_and_per_poll(
    bot: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    monkeypatch.setattr(home_refresh, "MAX_VIEWERS_PER_POLL", 2)
    for person in (STRANGER, UNPERMITTED, HOLDER):  # HOLDER opened most recently
        await open_home(bot, slack, person)
        clock.advance(seconds=1)
    feed.update("c_2", integration_status="not_integrated")
    await bot.poll()  # within 60 s of their last publish: nobody
    assert len(slack.of("views.publish")) == 3
    clock.advance(seconds=60)
    feed.update("c_2", integration_status="error", error={"kind": "publication", "message": "Oops"})
    await bot.poll()  # two at most, the longest-waiting first
    assert [c.args["user_id"] for c in slack.of("views.publish")[3:]] == [STRANGER[0], UNPERMITTED[0]]
    clock.advance(seconds=30)
    await bot.poll()  # no change, but HOLDER's view is still stale: its turn now
    assert [c.args["user_id"] for c in slack.of("views.publish")[5:]] == [HOLDER[0]]
    clock.advance(seconds=120)
    await bot.poll()  # no change, nothing stale: nothing
    assert len(slack.of("views.publish")) == 6
    clock.advance(hours=25)
    feed.update("c_2", integration_status="integrated", error=None)
    await bot.poll()  # nobody opened it in the last 24 h
    assert len(slack.of("views.publish")) == 6
    assert time.monotonic() - started < 5


async def test_reopening_right_away_does_not_republish_an_unchanged_view(bot: Bot, slack: FakeSlack, clock: FakeClock) -> None:
    view = await open_home(bot, slack, HOLDER)
    opened = clock.advance(seconds=5)
    await bot.event(home_event(HOLDER, blocks=view["blocks"]))
    # The listener decides as soon as it has recorded the open; wait for that before moving the clock.
    await slack.wait_for(lambda: bot.services.store.home_viewer(HOLDER[0]).opened_at == opened)
    await open_home(bot, slack, PERMITTED)
    clock.advance(seconds=60)
    await open_home(bot, slack, HOLDER, blocks=view["blocks"])  # over a minute later: published again
    assert len(publishes_for(slack, HOLDER[0])) == 2


async def test_a_failing_publish_is_logged_not_raised(bot: Bot, slack: FakeSlack) -> None:
    slack.inject("views.publish", 200, {"ok": False, "error": "not_enabled"})
    await bot.event(home_event(HOLDER))
    await slack.wait_for_calls("views.publish")
    assert (await open_home(bot, slack, PERMITTED))["type"] == "home"
    assert bot.services.store.home_viewer(HOLDER[0]).published_at is None


async def test_a_card_for_someone_whose_email_is_not_known_yet_opens_at_once_and_fills_in(
    bot: Bot, slack: FakeSlack, clock: FakeClock
) -> None:
    view = await open_home(bot, slack, HOLDER)
    acme = next(b for b in card_buttons(view) if b["value"] == "c_1")
    clock.advance(days=2)  # the cached email is too old: finding it again is a users.info call away
    await home_click(bot, acme["action_id"], acme["value"], user=HOLDER)
    (opened,) = await slack.wait_for_calls("views.open")
    assert "Looking it up" in all_text(as_answer(opened.args["view"]))
    (updated,) = await slack.wait_for_calls("views.update")
    assert updated.args["view_id"] == shared_views_open_id()
    assert "Token Required" in all_text(as_answer(updated.args["view"]))
    View(**updated.args["view"]).validate_json()
    users_info = [c.at for c in slack.of("users.info")]
    assert opened.at < users_info[-1] < updated.at  # the modal was open before the slow part began


def shared_views_open_id() -> str:
    from tests.fakes.slack_api import shared_response

    return shared_response("views.open.ok")["view"]["id"]
