"""Many workspaces: the Connect AutoEntry button and modal, `connect` / `disconnect`, the App Home of a
workspace not connected yet, and uninstalls (bot/connecting.py and bot/hosting.py Hosting do the work)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import connecting
from bot.answers.grammar import Verb
from bot.answers.render import Message
from bot.slack.middleware import ARRIVED
from bot.workspaces import CONNECT_ACTION, CONNECT_VIEW, DISCONNECT_ACTION, workspace_of
from handlers import ack_now

if TYPE_CHECKING:
    from bot.hosting import Hosting
    from bot.practices import Practices

# The context key a saved Connect form hands its lazy step: the account's name its feed check found.
SAVED_ACCOUNT = "saved_account"


def workspace(context: AsyncBoltContext) -> str | None:
    return workspace_of(context.team_id, context.enterprise_id, context.is_enterprise_install)


async def connect_command(hosting: "Hosting", verb: Verb, body: dict[str, Any], context: AsyncBoltContext) -> Message:
    return await connecting.connect_command(hosting, verb, body, context.client, workspace(context))


async def show_unconnected_home(hosting: "Hosting", event: dict[str, Any], context: AsyncBoltContext) -> None:
    await connecting.show_unconnected_home(hosting, event, context.client, workspace(context))


def register(app: AsyncApp, practices: "Practices") -> None:
    hosting = practices.hosting
    if hosting is None:
        return

    async def connect_pressed(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await connecting.connect_pressed(hosting, body, context.client, workspace(context))

    async def connect_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        ws, arrived = workspace(context), context.get(ARRIVED)
        errors, account = await connecting.connect_submitted(hosting, body, view, context.client, ws, arrived)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        context[SAVED_ACCOUNT] = account  # the lazy step below gets a copy of the context: only a saved form starts
        await ack()

    async def start_connected(body: dict[str, Any], context: AsyncBoltContext) -> None:
        account = context.get(SAVED_ACCOUNT)
        await connecting.start_connected(hosting, body, context.client, workspace(context), account)

    async def uninstalled(context: AsyncBoltContext) -> None:
        if ws := workspace(context):
            await hosting.uninstalled(ws)

    async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await connecting.tokens_revoked(hosting, event, workspace(context))

    async def disconnect_pressed(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await connecting.disconnect_pressed(hosting, body, context.client, workspace(context))

    app.action(CONNECT_ACTION)(ack=ack_now, lazy=[connect_pressed])
    app.action(DISCONNECT_ACTION)(ack=ack_now, lazy=[disconnect_pressed])
    app.view(CONNECT_VIEW)(ack=connect_submitted, lazy=[start_connected])
    app.event("app_uninstalled")(ack=ack_now, lazy=[uninstalled])
    app.event("tokens_revoked")(ack=ack_now, lazy=[tokens_revoked])
