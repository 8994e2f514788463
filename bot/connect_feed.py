"""Many workspaces: the Connect AutoEntry form's feed check and save (SPEC.md "Many practices"), within the
time Slack gives a view_submission's answer. bot/connecting.py calls it; bot/hosting.py `Hosting` keeps the
workspaces."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.feed_addresses import NOT_PUBLIC, refused_for_address
from bot.practice.demo import DEMO_ACCOUNT
from bot.practice.feed import FeedAnswered, FeedError, FeedUnreachable, HttpFeed
from bot.workspaces import SOURCE_BLOCK, TOKEN_BLOCK, source_problem, token_problem

if TYPE_CHECKING:
    from bot.hosting import Hosting

log = logging.getLogger(__name__)

# Slack shows the person an error unless a view_submission is answered within 3 s of sending it
# (https://api.slack.com/surfaces/modals#interactions); the whole handling, from the request's arrival,
# gets this long, leaving the rest for the save and the answer's way back.
CONNECT_DEADLINE_SECONDS = 2.5
TOO_SLOW = "timed out"


def check_refusal(exc: BaseException) -> tuple[str, str]:
    """(the modal's block id, the reason) for a failed feed check: whether the feed was reached, timed out
    or answered an HTTP status, and no more (the exception's own text would tell an address without a
    service from a closed port: a port scanner)."""
    if refused_for_address(exc):
        reason = NOT_PUBLIC
    elif isinstance(exc, FeedAnswered):
        field = TOKEN_BLOCK if exc.status in (401, 403) else SOURCE_BLOCK
        return field, f"AutoEntry did not accept this: it answered HTTP {exc.status}."
    elif isinstance(exc, FeedUnreachable):
        reason = TOO_SLOW if exc.timed_out else "could not reach it"
    elif isinstance(exc, TimeoutError):
        reason = TOO_SLOW
    elif isinstance(exc, FeedError):  # it answered 200, but not JSON, or not an account
        reason = "its answer is not an AutoEntry account"
    else:
        reason = "could not reach it"
    return SOURCE_BLOCK, f"AutoEntry did not accept this: {reason}."


async def connect(
    hosting: "Hosting", workspace: str, user_id: str, source: str, token: str, deadline: float
) -> tuple[dict[str, str], str]:
    """Checks the form, then the feed (GET /account with the token, before the event loop's clock reaches
    `deadline`), and saves the connection: ({}, the account's name), or (the reason by the modal's block
    id, "") with nothing saved. Never raises for what a client sends."""
    problem = source_problem(source)
    if problem:
        return {SOURCE_BLOCK: problem}, ""
    problem = token_problem(token)
    if problem:
        return {TOKEN_BLOCK: problem}, ""
    if hosting.store.workspace_record(workspace) is None:
        return {SOURCE_BLOCK: "This workspace has not installed the app (or removed it): add it to Slack first."}, ""
    if source == "demo":
        name = DEMO_ACCOUNT["name"]
    else:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return {SOURCE_BLOCK: f"AutoEntry did not accept this: {TOO_SLOW}."}, ""
        feed = HttpFeed(source, token or None, attempts=1, fetch_deadline=left, session=hosting.feed_session())
        try:
            name = await feed.check_account()
        except Exception as exc:
            expected = isinstance(exc, (FeedError, TimeoutError))
            log.log(
                logging.INFO if expected else logging.WARNING, "The feed check of %s failed", workspace, exc_info=not expected
            )
            field, reason = check_refusal(exc)
            return {field: reason}, ""
    encrypted = hosting.cipher.encrypt(token) if token and source != "demo" else None
    hosting.store.connect_workspace(workspace, source, encrypted, user_id, hosting.clock())
    log.info("Workspace %s connected to %s by %s", workspace, "demo" if source == "demo" else source, user_id)
    return {}, str(name)
