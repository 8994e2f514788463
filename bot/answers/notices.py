"""Short answers of the slash command (bot/slash.py): every sentence it says, each a named function."""

from __future__ import annotations

from bot.answers.render import notice
from bot.slack.blockkit import Message, escape, section


def went_wrong() -> Message:
    return notice("Something went wrong on our side; nothing was changed. Please try again.")


def not_connected(who_can_connect: str = "the person who installed the app, or a workspace admin or owner") -> Message:
    """Every command in a workspace that has not connected its AutoEntry feed (SPEC.md "Many practices")."""
    return notice(
        "This workspace is not connected to AutoEntry yet, so I have no statuses to show. "
        f"{who_can_connect[:1].upper()}{who_can_connect[1:]} can connect it with `/integration-status connect` "
        "or the *Connect AutoEntry* button on my Home tab."
    )


def single_workspace_feed() -> Message:
    return notice(
        "This bot serves one workspace: its AutoEntry feed is set where it runs (STATUS_SOURCE and"
        " STATUS_API_TOKEN), so there is nothing to connect or disconnect here."
    )


def no_statuses_yet() -> Message:
    return notice("No statuses yet: the first poll of the status feed has not finished. Try again in a minute.")


def alerts_go_to_channels() -> Message:
    return notice("Alerts go to channels: run this in the channel that should get them (and invite me there).")


def digest_goes_to_a_channel() -> Message:
    return notice("The digest goes to a channel: run this in the channel that should get it (and invite me there).")


def several_match(asked: str, names: list[str]) -> Message:
    listed = ", ".join(f"“{name}”" for name in names)
    return notice(f"Several companies match “{asked}”: {listed}. Give the full name, in quotes.")


def no_such_company(asked: str, names: list[str]) -> Message:
    listed = ", ".join(f"“{name}”" for name in names)
    return notice(f"No company called “{asked}”." + (f" Did you mean {listed}?" if names else ""))


def was_not_subscribed(company_name: str) -> Message:
    return notice(f"This channel was not subscribed to {company_name}; nothing changed.")


def unsubscribe_refused(subscriber: str, company_name: str) -> Message:
    text = (
        f"Only <@{subscriber}> or someone with the Company settings permission on "
        f"{escape(company_name)} can stop these alerts. Nothing changed."
    )
    return Message(text=text, blocks=[section(text)])


def unsubscribed(company_name: str) -> Message:
    return notice(f"This channel no longer gets alerts for {company_name}.")


def subscribe_refused(company_name: str | None, refused: int, in_scope: int) -> Message:
    """`company_name` None: `subscribe all`, refused on `refused` of `in_scope` companies."""
    scope = company_name if company_name is not None else f"every company ({refused} of {in_scope} are not yours)"
    return notice(
        f"Subscribing a channel to {scope} needs the Company settings permission on "
        f"{'it' if company_name is not None else 'each of them'}, and you don't have it. Nothing changed. "
        "Ask the account holder for the permission, or ask someone who has it to subscribe."
    )


def looking_it_up() -> Message:
    return notice("Looking it up…")


def unreadable_button() -> Message:
    return notice("I could not read that button. Nothing changed.")


def company_gone() -> Message:
    return notice("That company is no longer in the practice.")


def digest_needs_account_user() -> Message:
    return notice("Only AutoEntry users of this practice can set or stop this channel's digest. Nothing changed.")


def digest_belongs_to(setter: str) -> Message:
    text = (
        f"This channel's digest was set by <@{setter}>: only they, or someone with the Company settings "
        "permission on every company, can change or stop it. Nothing changed."
    )
    return Message(text=text, blocks=[section(text)])
