"""Feed clients: the demo, a file, the HTTP API; validation; and failures that keep the last good state."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.practice.demo import DEMO_ACCOUNT, PHASE, demo_companies
from bot.practice.feed import DemoFeed, FeedError, FileFeed, HttpFeed, build_snapshot
from bot.practice.models import MAX_PUBLICATION_ERRORS, IntegrationStatus
from tests.conftest import Bot, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.practice import ACCOUNT, company, practice


async def no_sleep(_: float) -> None:
    return None


def deep_list(depth: int) -> list:
    nested: list = []
    for _ in range(depth - 1):
        nested = [nested]
    return nested


async def test_the_http_feed_follows_cursors_with_the_bearer_token(feed: FakeFeed) -> None:
    feed.companies = [company(f"c_{n}", f"Company {n}") for n in range(1234)]
    snapshot = await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
    assert len(snapshot.companies) == 1234
    assert feed.requests == ["/account", "/companies", "/companies?cursor=500", "/companies?cursor=1000"]
    assert snapshot.account.holder.email == "jane@smithco.example"


async def test_the_http_feed_says_which_setting_to_check_on_401(feed: FakeFeed) -> None:
    with pytest.raises(FeedError, match="STATUS_API_TOKEN"):
        await HttpFeed(feed.base_url, "wrong-token", sleep=no_sleep).fetch()


async def test_the_http_feed_retries_server_errors_with_back_off(feed: FakeFeed) -> None:
    feed.fail_next = [(503, "{}"), (500, "{}")]
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    snapshot = await HttpFeed(feed.base_url, "feed-token", sleep=record, backoff_seconds=0.5).fetch()
    assert len(snapshot.companies) == len(practice()[1])
    assert len(delays) == 2 and delays[1] > delays[0]


async def test_the_http_feed_gives_up_after_its_attempts(feed: FakeFeed) -> None:
    feed.fail_next = [(503, "{}")] * 10
    with pytest.raises(FeedError, match="HTTP 503 after 4 attempts"):
        await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()


async def test_a_looping_cursor_is_a_feed_error(feed: FakeFeed) -> None:
    feed.companies = [company(f"c_{n}", f"Company {n}") for n in range(20)]
    feed.page_size = 10

    original = feed._companies

    async def looping(request):  # type: ignore[no-untyped-def]
        response = await original(request)
        body = json.loads(response.body)  # type: ignore[arg-type]
        body["next_cursor"] = "10"
        return type(response)(body=json.dumps(body), content_type="application/json")

    feed._companies = looping  # type: ignore[method-assign]
    await feed.stop()
    await feed.start()
    with pytest.raises(FeedError, match="came back twice"):
        await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()


async def test_garbled_json_is_a_feed_error(feed: FakeFeed) -> None:
    feed.fail_next = [(200, "{not json")]
    with pytest.raises(FeedError, match="not JSON"):
        await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()


async def test_answers_the_fast_json_reader_refuses_are_read_as_json_reads_them(feed: FakeFeed) -> None:
    # The fast reader (orjson) refuses these; each is read as json.loads reads it, and a too-deep one is refused
    # with a reason instead of a crash.
    feed.companies = [company("c_1", "One"), company("c_2", "Two", publication_errors=10**30)]
    http = HttpFeed(feed.base_url, "feed-token", sleep=no_sleep)
    plain = await http.fetch()
    assert plain.companies[1].publication_errors == MAX_PUBLICATION_ERRORS and plain.skipped == []
    listing = json.dumps({"companies": feed.companies, "next_cursor": None})
    account = json.dumps(feed.account)
    # A byte order mark, UTF-16, a NaN elsewhere in the page: the same companies and notes.
    nan_elsewhere = json.dumps({"companies": feed.companies, "next_cursor": None, "took": float("nan")})
    for body in (b"\xef\xbb\xbf" + listing.encode(), listing.encode("utf-16"), nan_elsewhere.encode()):
        feed.fail_next = [(200, account), (200, body)]
        again = await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
        assert again.companies == plain.companies and again.notes == plain.notes
    # A lone surrogate in a name: read, and replaced.
    feed.fail_next = [(200, account), (200, listing.replace('"Two"', '"Two \\ud800 lone"'))]
    odd = await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
    assert [c.name for c in odd.companies] == ["One", "Two \ufffd lone"]
    # An integer past 64 bits (read by json, which keeps it whole): quoted as the feed sent it.
    feed.fail_next = [
        (200, account),
        (200, listing.replace('"integration_status": "integrated"', '"integration_status": 18446744073709551616', 1)),
    ]
    big = await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
    assert "'integration_status' is 18446744073709551616, expected" in big.skipped[0]
    # One outside 64 bits below zero has 19 digits: read by json too.
    feed.fail_next = [
        (200, account),
        (200, listing.replace('"integration_status": "integrated"', '"integration_status": -9223372036854775809', 1)),
    ]
    negative = await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
    assert "'integration_status' is -9223372036854775809, expected" in negative.skipped[0]
    # Past Python's 4,300 digits: the page cannot be read, and says why.
    feed.fail_next = [(200, account), (200, listing.replace('"publication_errors": 0', '"publication_errors": ' + "9" * 5000, 1))]
    with pytest.raises(FeedError, match=r"/companies: the answer cannot be read \(Exceeds the limit"):
        await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()
    feed.fail_next = [(200, account), (200, "[" * 5000 + "]" * 5000)]
    with pytest.raises(FeedError, match="nested too deeply"):
        await HttpFeed(feed.base_url, "feed-token", sleep=no_sleep).fetch()


async def test_a_feed_that_sends_kilobytes_of_garbage_instead_of_headers_gets_a_short_reason() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n" + b"B" * 16_000 + b"\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(FeedError) as failed:
            await HttpFeed(f"http://127.0.0.1:{port}", "t", sleep=no_sleep, attempts=1).fetch()
    finally:
        server.close()
    assert str(failed.value).startswith("/account: ") and len(str(failed.value)) < 400


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"integration_status": "broken"}, "'integration_status' is 'broken'"),
        ({"sync_app": {"status": "sleeping"}}, "'status' is 'sleeping'"),
        ({"sync_app": "RECEPTION-PC"}, "'sync_app' must be an object"),
        ({"publication_errors": -1}, "must not be negative"),
        ({"publication_errors": "2"}, "whole number"),
        ({"publication_errors": True}, "whole number"),
        ({"updated_at": "yesterday"}, "not an ISO 8601 time"),
        ({"id": "c_2" + "x" * 100}, "longer than 100"),  # an id is never shortened: it would merge companies
        ({"publication_errors": float("nan")}, "whole number"),
        ({"publication_errors": 2.5}, "whole number"),
        ({"integration_status": ["error"]}, "'integration_status' is"),
        ({"updated_at": "0001-01-01T00:00:00+01:00"}, "not an ISO 8601 time"),
        # Values that cannot be written as they are: named or sized, and the record alone is skipped.
        ({"integration_status": 18446744073709551616}, "'integration_status' is 18446744073709551616, expected"),
        ({"integration_status": {"a": 1}}, "'integration_status' is an object, expected"),
        ({"integration_status": deep_list(2000)}, "'integration_status' is a list, expected"),
        ({"sync_app": {"status": None}}, "'status' is null, expected"),
    ],
)
def test_a_bad_company_record_is_skipped_and_the_rest_count(bad: dict, why: str) -> None:
    records = [company("c_1", "Good One"), {**company("c_2", "Bad One"), **bad}, company("c_3", "Good Two")]
    snapshot = build_snapshot(ACCOUNT, records)
    assert [c.id for c in snapshot.companies] == ["c_1", "c_3"]
    assert snapshot.skipped_ids == ({"c_2"} if "id" not in bad else {bad["id"]})
    assert why in snapshot.skipped[0]


@pytest.mark.parametrize(
    ("odd", "name", "kind", "message", "location"),
    [
        ({"name": ""}, "c_2", None, None, None),
        ({"name": None}, "c_2", None, None, None),
        ({"integration_status": "error", "error": None}, "Odd One", "synchronisation", "", None),
        ({"integration_status": "ERROR", "error": {"kind": "cosmic", "message": "x"}}, "Odd One", "synchronisation", "x", None),
        ({"integration_status": "error", "error": {"kind": "Publication", "message": ""}}, "Odd One", "publication", "", None),
        ({"integration_status": "error", "error": {"kind": "authentication"}}, "Odd One", "synchronisation", "", None),
        ({"sync_app": {"status": "offline", "location": "  ", "last_seen_at": None}}, "Odd One", None, None, "unknown"),
    ],
)
def test_a_record_with_odd_details_still_counts_with_what_can_be_read(
    odd: dict, name: str, kind: str | None, message: str | None, location: str | None
) -> None:
    """A company in error whose details are missing or odd is still in error: skipping it would silence its alert."""
    snapshot = build_snapshot(ACCOUNT, [company("c_1", "Good One"), {**company("c_2", "Odd One"), **odd}])
    assert [c.id for c in snapshot.companies] == ["c_1", "c_2"] and not snapshot.skipped_ids
    odd_one = snapshot.companies[1]
    assert odd_one.name == name
    assert (odd_one.error.kind.value if odd_one.error else None, odd_one.error.message if odd_one.error else None) == (
        kind,
        message,
    )
    if location:
        assert odd_one.sync_app is not None and odd_one.sync_app.location is None


def test_records_that_are_not_objects_and_duplicates_that_disagree_are_skipped() -> None:
    snapshot = build_snapshot(
        ACCOUNT, ["nope", None, company("c_1", "One"), company("c_1", "One again"), company("c_2", "Two"), company("c_2", "Two")]
    )
    assert [c.name for c in snapshot.companies] == ["Two"]  # an identical repeat is harmless
    assert snapshot.skipped_ids == {"c_1"}
    assert len(snapshot.skipped) == 3 and "2 records disagree" in snapshot.skipped[2]


def test_long_text_is_shortened_keeping_its_start_and_huge_counts_are_clamped() -> None:
    from bot.practice.models import (
        MAX_MESSAGE_LENGTH,
        MAX_NAME_LENGTH,
        MAX_PUBLICATION_ERRORS,
    )

    message = "Line 1: Account code 4010 is not valid. " + "Another validation error. " * 100
    records = [
        company(
            "c_1",
            "N" * 500,
            software="S" * 500,
            integration_status="error",
            error={"kind": "publication", "message": message},
            sync_app={"status": "offline", "location": "L" * 500, "last_seen_at": None},
            publication_errors=1e300,
        ),
        company("c_2", "Two \ud800 lone", publication_errors=10**30),
    ]
    snapshot = build_snapshot({**ACCOUNT, "name": "A" * 1000}, records)
    one, two = snapshot.companies
    assert one.error is not None and len(one.error.message) == MAX_MESSAGE_LENGTH
    assert one.error.message.startswith("Line 1: Account code 4010") and one.error.message.endswith("…")
    assert len(one.name) == MAX_NAME_LENGTH and one.sync_app is not None and one.sync_app.location.endswith("…")
    assert one.publication_errors == two.publication_errors == MAX_PUBLICATION_ERRORS
    assert two.name == "Two \ufffd lone" and snapshot.account.name.endswith("…")
    assert snapshot.skipped == [] and len(snapshot.notes) == 6


def test_a_bad_account_fails_the_whole_fetch() -> None:
    with pytest.raises(FeedError, match="account"):
        build_snapshot({"id": "a", "name": "A", "account_holder": {"name": "J"}}, [company("c_1", "One")])


def test_counts_past_a_doubles_range_are_clamped_and_a_record_no_check_foresaw_is_skipped_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [company("c_1", "One", publication_errors=10**400), company("c_2", "Two")]
    snapshot = build_snapshot(ACCOUNT, records)
    assert [c.publication_errors for c in snapshot.companies] == [MAX_PUBLICATION_ERRORS, 0]
    assert any("of a 401-digit number stored as 1,000,000,000" in note for note in snapshot.notes)
    # A failure no check foresaw while reading one record skips that record, with a reason.
    import bot.practice.models as models

    real = models._name

    def failing(record: dict, company_id: str, notes: list[str] | None) -> str:
        if company_id == "c_2":
            raise KeyError("surprise")
        return real(record, company_id, notes)

    monkeypatch.setattr(models, "_name", failing)
    odd = build_snapshot(ACCOUNT, [company("c_1", "One"), company("c_2", "Two")])
    assert [c.id for c in odd.companies] == ["c_1"] and odd.skipped == ["company 'c_2': could not be read (KeyError)"]


def test_the_account_holder_has_the_permission_everywhere_even_when_not_listed() -> None:
    account = {**ACCOUNT, "users": []}
    snapshot = build_snapshot(account, [])
    holder = snapshot.account.user_by_email("JANE@smithco.example")
    assert holder is not None and holder.has_company_settings("c_anything")


async def test_the_file_feed_is_reread_every_poll(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    account, companies = practice()
    path.write_text(json.dumps({"account": account, "companies": companies}))
    feed = FileFeed(path)
    assert len((await feed.fetch()).companies) == len(companies)
    path.write_text(json.dumps({"account": account, "companies": companies[:2]}))
    assert len((await feed.fetch()).companies) == 2
    path.write_text("{")
    with pytest.raises(FeedError):
        await feed.fetch()
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(FeedError, match="nested too deeply"):
        await feed.fetch()
    path.unlink()
    with pytest.raises(FeedError, match="no such file"):
        await feed.fetch()


async def test_an_account_with_a_field_nested_deep_is_read_poll_after_poll(tmp_path: Path) -> None:
    # Deep enough for json.loads, too deep to copy or compare in Python (about 500 levels): the field is one the
    # account does not use, so the account reads as it is, and again at the next poll.
    path = tmp_path / "feed.json"
    account, companies = practice()
    path.write_text(json.dumps({"account": {**account, "extra": deep_list(900)}, "companies": companies}))
    feed = FileFeed(path)
    for _ in range(2):
        snapshot = await feed.fetch()
        assert snapshot.account.name == account["name"] and len(snapshot.companies) == len(companies)


async def test_a_bad_person_in_the_account_is_named_by_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    account, companies = practice()
    users = [{"name": 5, "email": "amy@example.com"}, *account.get("users", [])]
    path.write_text(json.dumps({"account": {**account, "users": users}, "companies": companies}))
    snapshot = await FileFeed(path).fetch()
    assert "account users[0] 'name' must be a non-empty string" in " ".join(snapshot.skipped)
    path.write_text(
        json.dumps({"account": {**account, "account_holder": {"name": "", "email": "x@example.com"}}, "companies": companies})
    )
    with pytest.raises(FeedError, match="account: account_holder 'name' must be a non-empty string"):
        await FileFeed(path).fetch()


async def test_the_demo_practice_covers_every_state_and_changes_over_time() -> None:
    start = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    seen_states: set[str] = set()
    phases = []
    for step in range(4):
        snapshot = await DemoFeed(lambda: start + step * PHASE).fetch()
        assert snapshot.skipped == []
        assert len(snapshot.companies) >= 12
        phases.append({c.id: (c.integration_status, c.error, c.sync_app) for c in snapshot.companies})
        for c in snapshot.companies:
            seen_states.add(c.integration_status.value)
            if c.error:
                seen_states.add(c.error.kind.value)
            if c.sync_app:
                seen_states.add(f"sync_{c.sync_app.status.value}")
                assert c.sync_app.location
            if c.publication_errors:
                seen_states.add("triangles")
    assert seen_states >= {
        "not_integrated",
        "integrated",
        "error",
        "publication",
        "synchronisation",
        "sync_running",
        "sync_offline",
        "triangles",
    }
    assert len({tuple(sorted(p.items(), key=lambda kv: kv[0])).__repr__() for p in phases}) > 1
    assert any(c["name"] == "Acme Ltd" for c in demo_companies(start))
    users = DEMO_ACCOUNT["users"]
    assert any(u["company_settings"] == [] for u in users) and any(u["company_settings"] == "all" for u in users)


async def test_a_failing_feed_keeps_the_last_good_state_and_says_how_old_it_is(bot: Bot, feed: FakeFeed) -> None:
    before = bot.services.store.companies()
    feed.fail_next = [(500, "{}")] * 8
    feed.update("c_2", integration_status="error", error={"kind": "publication", "message": "x"})
    outcome = await bot.poll()
    assert not outcome.ok and "HTTP 500" in (outcome.error or "")
    assert bot.services.store.companies() == before
    answer = await bot.slash("Bright & Sons")
    assert "Home page status: Integrated" in answer["blocks"][1]["text"]["text"]
    assert any("cannot be read right now" in str(block) for block in answer["blocks"])


async def test_a_partial_feed_erases_nothing(bot: Bot, feed: FakeFeed) -> None:
    feed.companies[1]["integration_status"] = "exploded"  # one bad record
    outcome = await bot.poll()
    assert outcome.ok and len(outcome.skipped) == 1
    bright = bot.services.store.company("c_2")
    assert bright is not None and bright.status.integration_status is IntegrationStatus.INTEGRATED


async def test_a_company_gone_from_full_feeds_for_a_day_is_no_longer_listed(bot: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    feed.companies = [c for c in feed.companies if c["id"] != "c_2"]
    outcome = await bot.poll()
    assert outcome.removed == 0 and outcome.missing_ids == {"c_2"}
    assert "Bright" in str((await bot.slash("list"))["blocks"])  # one listing without it proves nothing
    clock.advance(hours=23, minutes=59)
    assert (await bot.poll()).removed == 0
    clock.advance(minutes=1)
    outcome = await bot.poll()
    assert outcome.removed == 1
    assert bot.services.store.company("c_2") is None
    assert "Bright" not in str((await bot.slash("list"))["blocks"])


def test_an_unchanged_record_parses_to_the_same_object_and_a_changed_one_anew() -> None:
    from bot.practice.feed import ParsedRecords

    parsed = ParsedRecords()
    first = build_snapshot(ACCOUNT, [company("c_1", "One"), company("c_2", "Two")], parsed)
    again = build_snapshot(ACCOUNT, [company("c_1", "One"), company("c_2", "Two", publication_errors=3)], parsed)
    assert again.companies[0] is first.companies[0]
    assert again.companies[1] is not first.companies[1] and again.companies[1].publication_errors == 3
    # A bad record is still refused, however it parsed before.
    bad = build_snapshot(ACCOUNT, [company("c_1", "One", integration_status="?")], parsed)
    assert bad.companies == [] and bad.skipped_ids == {"c_1"}
    # A record of an unexpected shape (a list inside) is parsed, not fingerprinted.
    odd = build_snapshot(ACCOUNT, [company("c_3", "Three", tags=["a"])], parsed)
    assert [c.id for c in odd.companies] == ["c_3"]


def test_a_known_listing_with_new_bad_repeated_and_shortened_records_reads_as_a_fresh_one() -> None:
    from bot.practice.feed import ParsedRecords

    known = [company("c_1", "One"), company("c_2", "Two"), company("c_3", "Three")]
    later = [
        company("c_1", "One"),
        company("c_4", "N" * 500),  # new, kept with a note
        company("c_2", "Two"),
        company("c_5", "Five", integration_status="?"),  # new and bad
        company("c_3", "Three"),
        company("c_3", "Three"),  # an identical repeat
        company("c_2", "Two again"),  # disagrees with c_2
    ]
    parsed = ParsedRecords()
    build_snapshot(ACCOUNT, known, parsed)
    for records in (later, later[:3], later):
        fresh, seen = build_snapshot(ACCOUNT, records), build_snapshot(ACCOUNT, records, parsed)
        assert seen.companies == fresh.companies and seen.skipped_ids == fresh.skipped_ids
        assert seen.skipped == fresh.skipped
    assert [c.id for c in seen.companies] == ["c_1", "c_4", "c_3"] and seen.skipped_ids == {"c_2", "c_5"}
    # Notes are said the first time a record is read only.
    assert build_snapshot(ACCOUNT, later).notes and not seen.notes


async def test_a_record_whose_null_became_nan_or_infinity_is_read_again_not_taken_as_unchanged(feed: FakeFeed) -> None:
    # A record's fingerprint is its bytes as orjson writes them, which would write NaN and infinities as null.
    feed.companies = [company("c_1", "One"), company("c_2", "Two")]
    http = HttpFeed(feed.base_url, "feed-token", sleep=no_sleep)
    first = await http.fetch()
    assert [c.id for c in first.companies] == ["c_1", "c_2"] and first.skipped == []
    feed.update("c_1", sync_app=float("nan"))
    feed.update("c_2", sync_app=float("inf"))  # written as Infinity
    changed = await http.fetch()
    assert changed.companies == [] and changed.skipped_ids == {"c_1", "c_2"}
    assert "'sync_app' must be an object or null" in changed.skipped[0]
    # And back to null: read again, and the same as before.
    feed.update("c_1", sync_app=None)
    again = await http.fetch()
    assert [c.id for c in again.companies] == ["c_1"] and again.companies[0] == first.companies[0]


async def test_a_listing_with_the_same_bytes_gives_the_last_snapshot_and_any_change_is_read(feed: FakeFeed) -> None:
    feed.companies = [company(f"c_{n}", f"Company {n}") for n in range(25)]
    feed.page_size = 10
    http = HttpFeed(feed.base_url, "feed-token", sleep=no_sleep)
    first = await http.fetch()
    assert await http.fetch() is first  # every byte the same: nothing parsed again
    assert feed.requests[-4:] == ["/account", "/companies", "/companies?cursor=10", "/companies?cursor=20"]
    # A change on the last page: the pages before it, unchanged, are read as usual with it.
    feed.update("c_22", integration_status="error", error={"kind": "token_expired", "message": "Reconnect"})
    changed = await http.fetch()
    assert changed is not first and len(changed.companies) == 25
    assert [c.id for c in changed.companies if c.integration_status is IntegrationStatus.ERROR] == ["c_22"]
    assert changed.companies[0] is first.companies[0]
    # A changed account, pages the same: read anew too.
    feed.account = {**feed.account, "name": "Smith & Co (renamed)"}
    renamed = await http.fetch()
    assert renamed is not changed and renamed.account.name == "Smith & Co (renamed)"
    assert renamed.companies == changed.companies
    # A page that is no longer JSON is still refused, whatever came before it.
    feed.fail_next = [(200, json.dumps(feed.account)), (200, "{not json")]
    with pytest.raises(FeedError, match="not JSON"):
        await http.fetch()
