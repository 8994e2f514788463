"""Many workspaces: the Connect AutoEntry button and modal, `connect` / `disconnect`, the App Home of a
workspace not connected yet, and uninstalls (bot/practices.py Hosting does the work)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.answers import notices
from bot.answers.grammar import Verb
from bot.answers.render import Message, notice
from bot.practices import open_connect
from bot.workspaces import (
    CONNECT_ACTION,
    CONNECT_VIEW,
    connected_text,
    not_allowed_text,
    submitted,
    unconnected_home,
    workspace_of,
)
from handlers import ack_now

if TYPE_CHECKING:
    from bot.practices import Hosting, Practices

log = logging.getLogger(__name__)


def workspace(context: AsyncBoltContext) -> str | None:
    return workspace_of(context.team_id, context.enterprise_id, context.is_enterprise_install)


async def tell(context: AsyncBoltContext, user_id: str, text: str) -> None:
    """A direct message from the bot (the button is on the App Home or in a DM: no response_url)."""
    try:
        await context.client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.warning("Could not send %s a direct message", user_id)


async def connect_command(hosting: "Hosting", verb: Verb, body: dict[str, Any], context: AsyncBoltContext) -> Message:
    """`/integration-status connect` opens the modal; `disconnect` stops polling and forgets the feed token."""
    user_id, ws = str(body.get("user_id") or ""), workspace(context)
    if not ws or context.client is None:
        return notices.went_wrong()
    if verb is Verb.CONNECT:
        refusal = await open_connect(hosting, context.client, ws, user_id, str(body.get("trigger_id") or ""))
        return notice(refusal or "Opening the Connect AutoEntry form.")
    if not await hosting.may_connect(context.client, ws, user_id):
        return notice(not_allowed_text())
    if await hosting.disconnect(ws):
        return notice(
            "Disconnected from AutoEntry: no more polls or alerts here, and the token is deleted. Connect again any time."
        )
    return notice("This workspace is not connected to AutoEntry. Nothing changed.")


async def show_unconnected_home(hosting: "Hosting", event: dict[str, Any], context: AsyncBoltContext) -> None:
    user_id, ws = event.get("user"), workspace(context)
    if event.get("tab") != "home" or not isinstance(user_id, str) or not ws or context.client is None:
        return
    allowed = await hosting.may_connect(context.client, ws, user_id)
    await context.client.views_publish(user_id=user_id, view=unconnected_home(allowed))


def register(app: AsyncApp, practices: "Practices") -> None:
    hosting = practices.hosting
    if hosting is None:
        return

    async def connect_pressed(body: dict[str, Any], context: AsyncBoltContext) -> None:
        user_id = str((body.get("user") or {}).get("id") or "")
        ws = workspace(context)
        if ws and context.client is not None:
            refusal = await open_connect(hosting, context.client, ws, user_id, str(body.get("trigger_id") or ""))
            if refusal:
                await tell(context, user_id, refusal)

    async def connect_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        """Answered within Slack's 3 s: the feed is checked first; its reason goes beside the field."""
        user_id = str((body.get("user") or {}).get("id") or "")
        ws = workspace(context)
        if not ws or context.client is None or not await hosting.may_connect(context.client, ws, user_id):
            await ack(response_action="errors", errors={"status_source": "Only the installer or an admin can connect."})
            return
        source, token = submitted(view)
        errors, _ = await hosting.connect(ws, user_id, source, token)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()

    async def start_connected(body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        ws = workspace(context)
        user_id = str((body.get("user") or {}).get("id") or "")
        record = hosting.store.workspace_record(ws) if ws else None
        if ws and record is not None and record.connected and record.connected_by == user_id:
            services = await hosting.start_workspace(ws)
            if services is not None:
                name = hosting.checked_accounts.pop(ws, "your AutoEntry account")
                await tell(context, user_id, connected_text(name, record.status_source or ""))

    async def uninstalled(context: AsyncBoltContext) -> None:
        if ws := workspace(context):
            await hosting.uninstalled(ws)

    async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if tokens.get("bot") and (ws := workspace(context)):  # type: ignore[union-attr]
            await hosting.uninstalled(ws)

    app.action(CONNECT_ACTION)(ack=ack_now, lazy=[connect_pressed])
    app.view(CONNECT_VIEW)(ack=connect_submitted, lazy=[start_connected])
    app.event("app_uninstalled")(ack=ack_now, lazy=[uninstalled])
    app.event("tokens_revoked")(ack=ack_now, lazy=[tokens_revoked])
