"""`integration-bot`: serve, status, poll."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Sequence

from bot.helpcentre.matching import HelpCentreError
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage.records import StorageError

log = logging.getLogger("integration-bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="integration-bot",
        description="AutoEntry integration status in Slack: ask, get alerted, get the right Help Centre article.",
        epilog="Settings come from the environment and a .env file; see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the Slack app and the scheduled poller")
    serve.add_argument("--port", type=int, help="HTTP port (default: PORT or 3000)")
    status = commands.add_parser("status", help='print a company\'s status card, e.g. status "Acme Ltd"')
    status.add_argument("name", nargs="+", help="the company's name (forgiving: case, Ltd/Limited, typos)")
    article = commands.add_parser(
        "article", help='print the Help Centre articles for a message or question, e.g. article "unlink xero"'
    )
    article.add_argument("text", nargs="+", help="an exact error message, or a question in your own words")
    commands.add_parser("poll", help="run one poll cycle, print what changed, deliver due alerts")
    migrate = commands.add_parser(
        "migrate", help="bring the database's schema up to date (DATABASE_URL, else INTEGRATION_BOT_DB), and exit"
    )
    migrate.add_argument(
        "--from-sqlite",
        metavar="PATH",
        help="with DATABASE_URL: copy the SQLite database at PATH into that empty PostgreSQL database",
    )
    commands.add_parser(
        "reencrypt-tokens",
        help="many workspaces: encrypt every stored feed token again under the first INTEGRATION_BOT_SECRET_KEY key",
    )
    return parser


def _version() -> str:
    try:
        return version("integration-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


async def _fresh_services(settings: Settings):
    from bot.app import build_services

    services = build_services(settings)
    last = services.store.last_good_poll()
    stale = last is None or services.clock() - (last.finished_at or last.started_at) > timedelta(
        seconds=settings.poll_interval_seconds
    )
    if stale:
        await services.poller.poll_once()
    return services


async def run_status(settings: Settings, name: str) -> int:
    from bot.answers.render import plain_lookup_text, status_text
    from bot.practice.lookup import Outcome
    from bot.practice.permissions import holder_viewer

    services = await _fresh_services(settings)
    try:
        health = services.status.feed_health()
        if health.checked_at is None and health.problem is not None:
            # Nothing was ever read: "no company called ..." would be a guess, not an answer.
            print(f"The status feed could not be read: {health.problem}. No companies are known yet.")
            return 1
        result = services.status.find(name)
        if result.outcome is Outcome.FOUND and result.company_id:
            company = services.store.company(result.company_id)
            if company is not None:
                viewer = holder_viewer(services.store.account())
                print(status_text(services.status.card_facts(company, viewer)))
                return 0
        print(plain_lookup_text(name, result))
        return 1
    finally:
        await services.close()


def run_article(settings: Settings, text: str) -> int:
    """What `/integration-status article <text>` answers, as plain text: up to three articles, best first, each
    with its link and why; else the general article and the Help Centre search link. Exit 0 when an article is
    about the text, 1 when only the general one is, 2 when Slack's command would refuse the text (none, or longer
    than it takes), with its words."""
    from bot.answers.grammar import Verb, parse
    from bot.helpcentre.matching import HelpCentre
    from bot.slack.blockkit import escape

    # Read as Slack delivers `/integration-status article <text>` (escaped, then cleaned and counted the same way),
    # so the terminal and Slack refuse and answer the same texts.
    request = parse("article " + escape(text))
    if request.verb is not Verb.ARTICLE:
        print(f"integration-bot: {request.problem}", file=sys.stderr)
        return 2
    found = HelpCentre.load(settings.help_centre_articles).search(request.argument)
    for n, match in enumerate(found, start=1):
        print(f"{n}. {match.article.title}\n   {match.article.url}\n   Why: {match.reason}")
        if match.search_url:
            print(f"   Search the Help Centre: {match.search_url}")
    return 0 if found[0].specific else 1


async def run_poll(settings: Settings) -> int:
    from bot.answers.overview import describe_change
    from bot.app import build_services

    services = build_services(settings)
    try:
        outcome = await services.poller.poll_once()
        if not outcome.ok:
            print(f"The poll failed: {outcome.error}. Nothing changed.")
            return 1
        print(f"Polled {services.feed.description}: {outcome.companies} companies, {len(outcome.changes)} changed.")
        for change in outcome.changes:
            print(f"  {describe_change(change.before, change.after)}")
        for problem in outcome.skipped:
            print(f"  skipped: {problem}")
        if outcome.missing_ids:
            print(f"  {len(outcome.missing_ids)} companies left out of this listing keep their last known state")
        if outcome.removed:
            print(f"  {outcome.removed} companies are no longer in the feed")
        queued = services.store.pending_outbox_count()
        if queued and not settings.bot_token:
            print(f"{queued} alert messages are queued; set SLACK_BOT_TOKEN to deliver them.")
        elif queued:
            report = await services.deliverer.drain(timeout=120)
            print(f"Delivered {report.sent} alert messages; {services.store.pending_outbox_count()} still queued.")
            for error in report.errors:
                print(f"  {error}")
        return 0
    finally:
        await services.close()


def run_migrate(settings: Settings, from_sqlite: str | None) -> int:
    """Migrate the database the bot would use; with `from_sqlite`, copy that SQLite file into PostgreSQL
    (storage/postgres/copy.py) and print the rows per table in both. Errors are StorageError (exit 2)."""
    if settings.database_url is None:
        if from_sqlite:
            raise SettingsError("--from-sqlite needs DATABASE_URL: the PostgreSQL database to copy into")
        from storage.open import open_store

        open_store(settings.db_path).close()
        print(f"The SQLite database {settings.db_path} is up to date.")
        return 0
    from storage.postgres.copy import copy_from_sqlite
    from storage.postgres.store import connect, migrate

    conn = connect(settings.database_url)
    try:
        if from_sqlite is None:
            applied = migrate(conn)
            print(f"Applied {', '.join(applied)}." if applied else "The PostgreSQL database is up to date.")
            return 0
        copied = copy_from_sqlite(from_sqlite, conn)
    finally:
        conn.close()
    print(f"Copied {from_sqlite} into PostgreSQL. Rows per table (SQLite / PostgreSQL):")
    for table in copied:
        print(f"  {table.table}: {table.sqlite_rows} / {table.postgres_rows}")
    return 0 if all(t.sqlite_rows == t.postgres_rows for t in copied) else 1


def run_serve(settings: Settings, port: int | None) -> int:
    """HTTP mode, or Socket Mode with SLACK_APP_TOKEN: one aiohttp app either way, serving /healthz and
    /metrics on PORT. SIGTERM and SIGINT stop it cleanly (bot.app.build_web_app): exit 0."""
    from aiohttp import web

    from bot.app import QuietAccessLogger, build_bolt_app, build_services, build_web_app
    from bot.hosted_app import build_hosted_web_app
    from bot.hosting import build_hosted
    from bot.services import utcnow

    settings.require_slack()
    if settings.many_workspaces:
        practices = build_hosted(settings, clock=utcnow)
        web_app = build_hosted_web_app(practices, build_bolt_app(None, practices))
    else:
        services = build_services(settings)
        web_app = build_web_app(services, build_bolt_app(services), check_tokens=True)
    port = port or settings.port
    try:
        web.run_app(
            web_app,
            port=port,
            print=log.info,
            access_log_class=QuietAccessLogger,
            # Requests in flight get a few seconds; Slack calls in flight get the rest of the 10 s.
            shutdown_timeout=5.0,
        )
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise SettingsError(f"PORT {port}: cannot listen ({os.strerror(exc.errno).lower()})") from None
    return 0


def run_reencrypt(settings: Settings) -> int:
    """After putting a new key first in INTEGRATION_BOT_SECRET_KEY: every stored feed token is encrypted again
    under it, so the old key can be dropped (README "Host it for many practices")."""
    from bot.secrets import TokenCipher
    from storage.open import open_store

    if not settings.many_workspaces or not settings.secret_key:
        raise SettingsError("reencrypt-tokens needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and INTEGRATION_BOT_SECRET_KEY")
    store = open_store(settings.db_path)
    try:
        done, unreadable = store.reencrypt_feed_tokens(TokenCipher(settings.secret_key).rotate)
    finally:
        store.close()
    print(f"{done} feed tokens now encrypted under the first key.")
    if unreadable:
        print(f"{unreadable} could not be decrypted with any key given (left as they were; reconnect those workspaces).")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["article"] and given[1:2] and given[1] not in ("-h", "--help", "--"):
        # The text is the question, however it begins: "article -x" or "article --- error ---", as in Slack.
        given = ["article", "--", *given[1:]]
    args = _parser().parse_args(given)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        code = _command(args)
        sys.stdout.flush()  # here, not at exit: a reader that left shows as BrokenPipeError, below
        return code
    except BrokenPipeError:
        # The reader left (`integration-bot article ... | head -1`): nothing more to say, and no traceback.
        # Python docs, "Note on SIGPIPE": point stdout at devnull so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _command(args: argparse.Namespace) -> int:
    """Run the parsed command: its exit code; 2 with one line for settings or data it cannot use."""
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        # Settings are read once, above. Left in the environment, SLACK_BOT_TOKEN makes Bolt warn that it
        # ignores the token beside the client the bot gives it.
        os.environ.pop("SLACK_BOT_TOKEN", None)
        if args.command == "serve":
            return run_serve(settings, args.port)
        if args.command == "migrate":
            return run_migrate(settings, args.from_sqlite)
        if args.command == "status":
            return asyncio.run(run_status(settings, " ".join(args.name)))
        if args.command == "article":
            return run_article(settings, " ".join(args.text))
        if args.command == "reencrypt-tokens":
            return run_reencrypt(settings)
        return asyncio.run(run_poll(settings))
    except (SettingsError, HelpCentreError, StorageError) as exc:  # StartupError (a rejected token) too
        print(f"integration-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
