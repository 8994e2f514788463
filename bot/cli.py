"""`integration-bot`: serve, status, poll."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import timedelta
from typing import Sequence

from bot.helpcentre.matching import HelpCentreError
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("integration-bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="integration-bot",
        description="AutoEntry integration status in Slack: ask, get alerted, get the right Help Centre article.",
        epilog="Settings come from the environment and a .env file; see README.md.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the Slack app and the scheduled poller")
    serve.add_argument("--port", type=int, help="HTTP port (default: PORT or 3000)")
    status = commands.add_parser("status", help='print a company\'s status card, e.g. status "Acme Ltd"')
    status.add_argument("name", nargs="+", help="the company's name (forgiving: case, Ltd/Limited, typos)")
    commands.add_parser("poll", help="run one poll cycle, print what changed, deliver due alerts")
    return parser


async def _fresh_services(settings: Settings):  # type: ignore[no-untyped-def]
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


async def run_poll(settings: Settings) -> int:
    from bot.answers.render import describe_change
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


def run_serve(settings: Settings, port: int | None) -> int:
    from aiohttp import web

    from bot.app import build_bolt_app, build_services, build_web_app

    settings.require_slack()
    services = build_services(settings)
    bolt_app = build_bolt_app(services)
    if settings.socket_mode:
        return asyncio.run(_serve_socket_mode(services, bolt_app))
    web.run_app(build_web_app(services, bolt_app), port=port or settings.port, print=log.info)
    return 0


async def _serve_socket_mode(services, bolt_app) -> int:  # type: ignore[no-untyped-def]
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    from bot.app import build_scheduler

    scheduler = build_scheduler(services)
    scheduler.start()
    delivery = asyncio.create_task(services.deliverer.run_forever())
    handler = AsyncSocketModeHandler(bolt_app, services.settings.app_token)
    try:
        await handler.start_async()
    finally:
        scheduler.shutdown(wait=False)
        delivery.cancel()
        await services.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per scheduled run is noise; APScheduler's warnings (a missed run) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        settings = load_settings()
        if args.command == "serve":
            return run_serve(settings, args.port)
        if args.command == "status":
            return asyncio.run(run_status(settings, " ".join(args.name)))
        return asyncio.run(run_poll(settings))
    except (SettingsError, HelpCentreError) as exc:
        print(f"integration-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
