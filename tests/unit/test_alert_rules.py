"""The alert rules as pure decisions: one computer one alert (routing), flapping, and the daily digest."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from bot.alerting.conditions import Condition
from bot.alerting.digest import (
    DigestSchedule,
    digest_bodies,
    digest_facts,
    due_date,
    next_send,
    zone,
)
from bot.alerting.digest_messages import DIGEST_LINES_SHOWN, digest_list_reply, digest_message
from bot.alerting.flapping import (
    FLAPS_TO_MARK,
    FlapState,
    after_flap,
    mark_clears,
    reopens,
)
from bot.alerting.group_messages import GroupMember, device_message
from bot.alerting.messages import COMPANIES_PER_REPLY, AlertFacts
from bot.alerting.routing import NewAlert, route
from bot.answers.grammar import Verb, clock_time, parse
from bot.helpcentre.matching import HelpCentre
from bot.practice.devices import location_key, sharing
from bot.practice.models import StoredCompany, parse_company
from bot.slack.blockkit import MESSAGE_TEXT_BUDGET, text_size
from tests.practice import company

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # a Monday
WINDOW = timedelta(hours=1)

# --- which companies share a computer ------------------------------------------------------------


def test_a_location_names_a_computer_whatever_its_case_and_spacing_and_an_empty_one_names_none() -> None:
    assert location_key(" Reception-PC ") == location_key("RECEPTION-PC") == "reception-pc"
    assert location_key("") is None and location_key("   ") is None and location_key(None) is None


def test_sharing_lists_the_other_companies_on_the_same_computer_and_never_groups_unknown_ones() -> None:
    found = sharing(
        [
            ("c1", "Acme", "PC-1"),
            ("c2", "Bright", "pc-1"),
            ("c3", "Carter", "PC-2"),
            ("c4", "Dunmore", ""),
            ("c5", "Evergreen", None),
            ("c6", "Fen", ""),
        ]
    )
    assert found == {"c1": ["Bright"], "c2": ["Acme"]}


# --- one computer, one alert ---------------------------------------------------------------------


def offline(incident_id: int, location: str) -> NewAlert:
    return NewAlert(incident_id, Condition.SYNC_OFFLINE, location)


def test_twelve_sync_apps_on_one_computer_are_one_device_alert() -> None:
    plan = route([offline(n, "RECEPTION-PC") for n in range(1, 13)], {}, threshold=3)
    assert plan.devices == [("RECEPTION-PC", list(range(1, 13)))] and plan.singles == [] and plan.storm == []
    assert plan.new_messages == 1


def test_one_sync_app_is_a_device_alert_too_so_the_next_on_that_computer_joins_it() -> None:
    assert route([offline(1, "PC-1")], {}, 3).devices == [("PC-1", [1])]
    plan = route([offline(2, "pc-1 "), offline(3, "PC-2")], {"pc-1": 40}, 3)
    assert plan.joins == {40: [2]} and plan.devices == [("PC-2", [3])] and plan.new_messages == 1


def test_unknown_locations_and_other_conditions_are_single_alerts() -> None:
    plan = route([offline(1, ""), offline(2, "  "), NewAlert(3, Condition.ERROR, "Token Required")], {}, 3)
    assert plan.singles == [1, 2, 3] and plan.devices == []


def test_more_new_messages_than_the_threshold_are_one_storm_but_joins_never_count() -> None:
    alerts = [NewAlert(n, Condition.ERROR, "x") for n in range(1, 4)] + [
        offline(4, "PC-1"),
        offline(5, "PC-1"),
        offline(6, "PC-9"),
    ]
    plan = route(alerts, {"pc-9": 7}, threshold=3)
    assert plan.storm == [1, 2, 3, 4, 5] and plan.joins == {7: [6]} and plan.devices == [] and plan.singles == []
    assert route(alerts[:3] + alerts[5:], {"pc-9": 7}, threshold=3).storm == []


def facts(incident_id: int, name: str, *, resolved: bool = False, flapping: bool = False) -> AlertFacts:
    since = NOW - timedelta(minutes=30)
    return AlertFacts(
        incident_id=incident_id,
        company_id=f"c{incident_id}",
        company=name,
        software="Sage 50",
        condition=Condition.SYNC_OFFLINE,
        detail="RECEPTION-PC",
        error_kind=None,
        since=since,
        resolved_at=NOW if resolved else None,
        article=HELP.match(None, "sync_app"),
        flaps=3 if flapping else 0,
        flapping=flapping,
    )


HELP = HelpCentre.load()


def test_a_device_alert_names_the_computer_lists_the_companies_and_gives_one_next_step() -> None:
    members = [GroupMember(facts(n, f"Client {n:02d} <Ltd>")) for n in range(1, 13)]
    message = device_message(5, "RECEPTION-PC", members)
    assert message.text == "RECEPTION-PC is offline: 12 companies cannot sync; restart the Sync App there"
    text = "\n".join(b.get("text", {}).get("text", "") for b in message.blocks)
    assert all(f"Client {n:02d} &lt;Ltd&gt;" in text for n in range(1, 13))
    assert text.count("Restart the Desktop Sync App") == 1
    values = {e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"] if "value" in e}
    assert values == {"g:5"}
    half = device_message(5, "RECEPTION-PC", [GroupMember(facts(1, "A", resolved=True)), GroupMember(facts(2, "B"))])
    assert half.text.startswith("RECEPTION-PC is offline: 1 company cannot sync")
    done = device_message(
        5, "RECEPTION-PC", [GroupMember(facts(1, "A", resolved=True)), GroupMember(facts(2, "B", resolved=True))]
    )
    assert done.text == "Resolved: the Sync App on RECEPTION-PC runs again; all 2 companies can sync"
    assert not [b for b in done.blocks if b["type"] == "actions"]


def test_a_device_alert_of_one_company_reads_as_its_own_alert_and_shows_flapping() -> None:
    message = device_message(5, "RECEPTION-PC", [GroupMember(facts(1, "Acme Ltd", flapping=True))])
    assert message.text == "Acme Ltd: the Desktop Sync App on RECEPTION-PC is offline"
    assert any("Flapping" in b.get("elements", [{}])[0].get("text", "") for b in message.blocks if b["type"] == "context")


def test_a_device_alert_of_a_thousand_companies_stays_within_slacks_limits() -> None:
    members = [GroupMember(facts(n, f"Client {n:04d} " + "x" * 70)) for n in range(1000)]
    message = device_message(5, "RECEPTION-PC", members)
    assert len(message.blocks) <= 50 and text_size(message.text, message.blocks) <= MESSAGE_TEXT_BUDGET
    assert "the full list is in the thread" in str(message.blocks)


# --- flapping ------------------------------------------------------------------------------------


def test_a_problem_back_within_the_window_reopens_and_not_after_it_or_with_the_window_off() -> None:
    assert reopens(NOW - timedelta(minutes=59), NOW, WINDOW)
    assert not reopens(NOW - timedelta(minutes=61), NOW, WINDOW)
    assert not reopens(None, NOW, WINDOW)
    assert not reopens(NOW - timedelta(minutes=1), NOW, timedelta(0))


def test_three_flaps_within_the_window_mark_it_flapping_and_older_ones_are_forgotten() -> None:
    state = FlapState()
    for minutes in (0, 10, 20)[: FLAPS_TO_MARK - 1]:
        state = after_flap(state, NOW + timedelta(minutes=minutes), WINDOW)
    assert not state.flapping
    assert after_flap(state, NOW + timedelta(minutes=30), WINDOW).flapping
    spread = after_flap(state, NOW + timedelta(minutes=70), WINDOW)  # the first flap is older than the window
    assert not spread.flapping and len(spread.flaps) == 2


def test_a_stable_window_clears_the_mark() -> None:
    state = FlapState((NOW - timedelta(minutes=90), NOW - timedelta(minutes=80), NOW - timedelta(minutes=70)), True)
    assert not mark_clears(state, NOW - timedelta(minutes=30), NOW, WINDOW)  # it cleared half an hour ago
    assert mark_clears(state, NOW - timedelta(minutes=60), NOW, WINDOW)
    assert mark_clears(state, None, NOW, WINDOW)  # open and steady since its last return, 70 minutes ago
    assert not mark_clears(FlapState(state.flaps, False), None, NOW, WINDOW)


# --- the daily digest: when --------------------------------------------------------------------


def schedule(
    at: str = "09:00", tz: str = "Europe/London", every_day: bool = False, created_at: datetime | None = None
) -> DigestSchedule:
    return DigestSchedule(
        "C1", time.fromisoformat(at), tz, every_day, "U1", created_at or datetime(2026, 1, 1, tzinfo=timezone.utc)
    )


def test_a_digest_is_due_from_its_local_time_until_the_end_of_that_day() -> None:
    london = schedule()
    assert due_date(london, datetime(2026, 11, 30, 8, 59, tzinfo=timezone.utc)) is None
    assert due_date(london, datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)) == date(2026, 11, 30)
    assert due_date(london, datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)) == date(2026, 11, 30)
    assert due_date(schedule(tz="America/New_York"), datetime(2026, 11, 30, 13, 59, tzinfo=timezone.utc)) is None
    assert due_date(schedule(tz="America/New_York"), datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)) == date(2026, 11, 30)


def test_working_days_by_default_every_day_when_asked() -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
    assert due_date(schedule(), saturday) is None
    assert due_date(schedule(every_day=True), saturday) == date(2026, 11, 28)
    assert next_send(schedule(), saturday) == datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [(date(2026, 3, 27), 9), (date(2026, 3, 30), 8), (date(2026, 10, 23), 8), (date(2026, 10, 26), 9)],
)
def test_nine_stays_nine_local_across_daylight_saving_changes(day: date, utc_hour: int) -> None:
    # The UK moves its clocks on 29 March and 25 October 2026.
    now = datetime.combine(day, time(utc_hour), tzinfo=timezone.utc)
    assert due_date(schedule(), now) == day
    assert due_date(schedule(), now - timedelta(minutes=1)) is None


def test_no_digest_for_a_time_that_passed_before_it_was_set() -> None:
    set_at_ten = schedule(created_at=datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc))
    assert due_date(set_at_ten, datetime(2026, 11, 30, 10, 5, tzinfo=timezone.utc)) is None
    assert next_send(set_at_ten, datetime(2026, 11, 30, 10, 5, tzinfo=timezone.utc)) == datetime(
        2026, 12, 1, 9, 0, tzinfo=timezone.utc
    )


def test_an_unknown_time_zone_is_refused() -> None:
    assert zone("Europe/London") is not None
    assert zone("Mars/Olympus") is None and zone("") is None and zone(None) is None and zone("../../etc/passwd") is None


@pytest.mark.parametrize(
    ("text", "verb", "argument", "every_day"),
    [
        ("digest 09:00", Verb.DIGEST, "09:00", False),
        ("digest 9:05 daily", Verb.DIGEST, "09:05", True),
        ("DIGEST 17h30", Verb.DIGEST, "17:30", False),
        ("digest off", Verb.DIGEST, "off", False),
        ("digest", Verb.INVALID, "", False),
        ("digest 25:00", Verb.INVALID, "", False),
        ("digest 09:00 weekly", Verb.INVALID, "", False),
        ("digest tomorrow", Verb.INVALID, "", False),
    ],
)
def test_the_digest_command(text: str, verb: Verb, argument: str, every_day: bool) -> None:
    request = parse(text)
    assert (request.verb, request.argument, request.every_day) == (verb, argument, every_day)
    if verb is Verb.INVALID:
        assert "digest 09:00" in (request.problem or "")


def test_clock_times() -> None:
    assert clock_time("0:00") == "00:00" and clock_time("23:59") == "23:59"
    assert clock_time("24:00") is None and clock_time("9") is None and clock_time("９:００") is None


# --- the daily digest: what ---------------------------------------------------------------------


def stored(record: dict[str, Any], since: datetime | None = None) -> StoredCompany:
    return StoredCompany(parse_company(record), since, since)


def test_the_digest_counts_states_and_lists_the_longest_broken_first_with_who_acknowledged() -> None:
    companies = [
        stored(company("c1", "Fine Ltd")),
        stored(
            company("c2", "Recent Error", integration_status="error", error={"kind": "publication", "message": "x"}),
            NOW - timedelta(hours=1),
        ),
        stored(company("c3", "Old Disconnect", integration_status="not_integrated"), NOW - timedelta(days=3)),
        stored(
            company("c4", "Offline PC", "Sage 50", sync_app={"status": "offline", "location": "PC-1", "last_seen_at": None}),
            NOW - timedelta(hours=5),
        ),
    ]
    facts = digest_facts(companies, {"c3": "U_TOM"})
    assert (facts.total, facts.integrated, facts.error, facts.not_integrated, facts.sync_offline) == (4, 2, 1, 1, 1)
    assert [line.name for line in facts.lines] == ["Old Disconnect", "Offline PC", "Recent Error"]
    assert facts.lines[0].acked_by == "U_TOM" and facts.lines[1].problems == ("Sync App offline on PC-1",)
    main, parts = digest_bodies(facts, schedule(), date(2026, 11, 30), NOW, shown=15, per_reply=40)
    assert parts == []
    message = digest_message(main)
    text = "\n".join(
        [message.text] + [b.get("text", {}).get("text", "") or b.get("elements", [{}])[0].get("text", "") for b in message.blocks]
    )
    assert message.text == "Daily digest, Monday 30 November 2026: 3 of 4 companies need attention"
    assert "for 3 days · acknowledged by <@U_TOM>" in text and "for 5 h · not acknowledged" in text
    assert text.index("Old Disconnect") < text.index("Offline PC") < text.index("Recent Error")


def test_the_digest_is_sent_when_all_is_well_too() -> None:
    facts = digest_facts([stored(company(f"c{n}", f"Co {n}")) for n in range(42)], {})
    main, _ = digest_bodies(facts, schedule(), date(2026, 11, 30), NOW, shown=15, per_reply=40)
    assert digest_message(main).text == "Daily digest, Monday 30 November 2026: all 42 companies fine"


def test_a_digest_of_a_thousand_broken_companies_stays_within_slacks_limits_with_the_full_list_in_its_thread() -> None:
    broken = [
        stored(
            company(
                f"c{n}",
                f"Client {n:04d} & Sons " + "x" * 70,
                integration_status="error",
                error={"kind": "publication", "message": "x"},
            ),
            NOW - timedelta(minutes=n),
        )
        for n in range(1000)
    ]
    facts = digest_facts(broken, {})
    main, parts = digest_bodies(
        facts, schedule(), date(2026, 11, 30), NOW, shown=DIGEST_LINES_SHOWN, per_reply=COMPANIES_PER_REPLY
    )
    message = digest_message(main)
    assert len(message.blocks) < 50 and text_size(message.text, message.blocks) <= MESSAGE_TEXT_BUDGET
    assert "…and 985 more: the full list is in the thread." in str(message.blocks)
    assert len(parts) == 25
    listed = []
    for body in parts:
        reply = digest_list_reply(body)
        assert len(reply.blocks) < 50 and text_size(reply.text, reply.blocks) <= MESSAGE_TEXT_BUDGET
        listed += [
            line for block in reply.blocks for line in block.get("text", {}).get("text", "").split("\n") if line.startswith("•")
        ]
    assert len(listed) == 1000 and "Client 0999" in listed[0]  # longest-broken first


def test_a_device_alerts_thread_names_each_company_of_a_poll() -> None:
    from bot.alerting.group_messages import device_news_reply

    told = [facts(1, "Acme Ltd", resolved=True), facts(2, "Bright & Sons", resolved=True)]
    assert device_news_reply("returned", told, "PC-1", 3).text == (
        "Acme Ltd and Bright &amp; Sons can sync again. Still offline on PC-1: 3 companies."
    )
    assert (
        device_news_reply("returned", told[:1], "PC-1", 0).text
        == "Acme Ltd can sync again after 30 min. All back on PC-1: resolved."
    )
    assert (
        device_news_reply("joined", told[:1], "PC-1", 4).text
        == "Acme Ltd's Sync App is offline on PC-1 too: 4 companies cannot sync now."
    )
    many = device_news_reply("back", [facts(n, f"Client {n}") for n in range(100)], "PC-1", 100)
    assert many.text.startswith("Back again: Client 0, Client 1") and "and 60 more are offline on PC-1 again" in many.text
    assert len(many.blocks) == 1 and len(many.blocks[0]["text"]["text"]) <= 3000


def test_the_flap_window_setting() -> None:
    from bot.settings import SettingsError, load_settings

    assert load_settings({}, dotenv=None).flap_window_seconds == 3600
    assert load_settings({"FLAP_WINDOW_SECONDS": "0"}, dotenv=None).flap_window_seconds == 0
    for bad in ("an hour", "-1"):
        with pytest.raises(SettingsError, match="^FLAP_WINDOW_SECONDS must be"):
            load_settings({"FLAP_WINDOW_SECONDS": bad}, dotenv=None)
