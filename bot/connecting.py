"""Many workspaces: the Connect AutoEntry button and modal, `connect` / `disconnect`, the App Home of a
workspace not connected yet, and uninstalls. handlers/connect.py listens; bot/hosting.py `Hosting`
keeps the workspaces; this module is the one call each listener makes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import notices
from bot.answers.grammar import Verb
from bot.answers.render import Message, notice
from bot.connect_feed import CONNECT_DEADLINE_SECONDS, TOO_SLOW, connect
from bot.slack.errors import slack_error
from bot.workspaces import (
    SOURCE_BLOCK,
    connect_modal,
    connected_text,
    disconnected_text,
    not_allowed_text,
    submitted,
    unconnected_home,
)

if TYPE_CHECKING:
    from bot.hosting import Hosting

log = logging.getLogger(__name__)

ONLY_ADMINS = {"status_source": "Only the installer or an admin can connect."}


def presser(body: dict[str, Any]) -> str:
    """The id of the user who pressed or submitted ("" when the payload has none)."""
    return str((body.get("user") or {}).get("id") or "")


async def tell(client: AsyncWebClient, user_id: str, text: str) -> None:
    """A direct message from the bot (the button is on the App Home or in a DM: no response_url)."""
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.warning("Could not send %s a direct message", user_id)


async def connect_command(
    hosting: "Hosting", verb: Verb, body: dict[str, Any], client: AsyncWebClient | None, ws: str | None
) -> Message:
    """`/integration-status connect` opens the modal; `disconnect` stops polling and forgets the feed token."""
    user_id = str(body.get("user_id") or "")
    if not ws or client is None:
        return notices.went_wrong()
    if verb is Verb.CONNECT:
        refusal = await open_connect(hosting, client, ws, user_id, str(body.get("trigger_id") or ""))
        return notice(refusal or "Opening the Connect AutoEntry form.")
    if not await hosting.may_connect(client, ws, user_id):
        return notice(not_allowed_text())
    if await hosting.disconnect(ws):
        return notice(disconnected_text())
    return notice("This workspace is not connected to AutoEntry. Nothing changed.")


async def show_unconnected_home(hosting: "Hosting", event: dict[str, Any], client: AsyncWebClient | None, ws: str | None) -> None:
    """The App Home of a workspace not connected yet: the Connect button for those allowed to press it."""
    user_id = event.get("user")
    if event.get("tab") != "home" or not isinstance(user_id, str) or not ws or client is None:
        return
    allowed = await hosting.may_connect(client, ws, user_id)
    await client.views_publish(user_id=user_id, view=unconnected_home(allowed))


async def connect_pressed(hosting: "Hosting", body: dict[str, Any], client: AsyncWebClient | None, ws: str | None) -> None:
    """The Connect AutoEntry button: opens the modal, or tells the presser by DM why not."""
    user_id = presser(body)
    if ws and client is not None:
        refusal = await open_connect(hosting, client, ws, user_id, str(body.get("trigger_id") or ""))
        if refusal:
            await tell(client, user_id, refusal)


async def disconnect_pressed(hosting: "Hosting", body: dict[str, Any], client: AsyncWebClient | None, ws: str | None) -> None:
    """The App Home's Disconnect button (Slack asked to confirm first): for someone allowed, the workspace is
    disconnected and their Home tab shows it; anyone else is told by DM who can."""
    user_id = presser(body)
    if not ws or client is None:
        return
    if not await hosting.may_connect(client, ws, user_id):
        await tell(client, user_id, not_allowed_text())
        return
    if await hosting.disconnect(ws):
        await tell(client, user_id, disconnected_text())
    try:
        await client.views_publish(user_id=user_id, view=unconnected_home(True))
    except Exception:
        log.warning("Could not publish the App Home of %s after disconnecting", user_id)


async def connect_submitted(
    hosting: "Hosting",
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient | None,
    ws: str | None,
    arrived: float | None = None,
) -> tuple[dict[str, str], str]:
    """The modal submitted: who submitted it, then the feed, are checked and the connection saved, all within
    CONNECT_DEADLINE_SECONDS of `arrived` (the event loop's clock; now when None). ({}, the account's name)
    when saved; else (the reason per field, "") with nothing saved: Slack shows it beside the field."""
    deadline = (arrived if arrived is not None else asyncio.get_running_loop().time()) + CONNECT_DEADLINE_SECONDS
    user_id = presser(body)
    if not ws or client is None:
        return ONLY_ADMINS, ""
    try:
        async with asyncio.timeout_at(deadline):
            allowed = await hosting.may_connect(client, ws, user_id)
    except TimeoutError:
        return {SOURCE_BLOCK: f"Slack took too long to say who you are ({TOO_SLOW}); please submit again."}, ""
    if not allowed:
        return ONLY_ADMINS, ""
    source, token = submitted(view)
    return await connect(hosting, ws, user_id, source, token, deadline)


async def start_connected(
    hosting: "Hosting", body: dict[str, Any], client: AsyncWebClient | None, ws: str | None, account: str | None
) -> None:
    """After a submitted modal was saved (`account`: the name its feed check found; None when nothing was
    saved, and nothing is done): start polling the workspace and tell the person by DM."""
    user_id = presser(body)
    record = hosting.store.workspace_record(ws) if ws and account is not None else None
    if ws and record is not None and record.connected and record.connected_by == user_id:
        services = await hosting.start_workspace(ws)
        if services is not None and client is not None:
            await tell(client, user_id, connected_text(account or "your AutoEntry account", record.status_source or ""))


async def tokens_revoked(hosting: "Hosting", event: dict[str, Any], ws: str | None) -> None:
    """Slack's tokens_revoked: the bot token revoked is an uninstall."""
    tokens = event.get("tokens")
    if isinstance(tokens, dict) and tokens.get("bot") and ws:
        await hosting.uninstalled(ws)


async def open_connect(hosting: "Hosting", client: AsyncWebClient, workspace: str, user_id: str, trigger_id: str) -> str | None:
    """The Connect AutoEntry modal for someone who may connect (views.open); otherwise the reason, to tell them."""
    if not await hosting.may_connect(client, workspace, user_id):
        return not_allowed_text()
    source, hint = hosting.token_hint(workspace)
    try:
        await client.views_open(trigger_id=trigger_id, view=connect_modal(source, hint))
    except Exception as exc:
        log.warning("Could not open the Connect AutoEntry modal (%s)", slack_error(exc))
        return "I could not open the Connect AutoEntry form; please try again."
    return None
