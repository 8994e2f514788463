"""What the presser of an alert's button is told, privately: every sentence of bot/alerting/actions.py."""

from __future__ import annotations

from bot.slack.blockkit import Message, escape, section


def cannot_read() -> str:
    return "I could not read that button. Nothing changed."


def unknown_alert() -> str:
    return "That alert is not known here any more."


def ack_needs_account_user() -> str:
    return "Only AutoEntry users of this practice can acknowledge alerts. Nothing changed."


def checking() -> str:
    return "Checking the status feed now…"


def checked(still_open: int, companies: int, *, grouped: bool) -> str:
    """After Check again: `still_open` of the alert's `companies` still have the problem."""
    if not still_open:
        return "Checked again: it is resolved. The alert is being updated."
    if not grouped:
        return "Checked again just now: still a problem."
    return f"Checked again just now: {still_open} of {companies} companies still have the problem."


def snooze_refused(names: list[str], refused: int, subscribers: list[str]) -> Message:
    """Snooze refused: `names` are up to three of the `refused` companies, `subscribers` Slack user ids."""
    shown = [escape(name) for name in names]
    what = (
        ", ".join(shown) + (f" and {refused - len(shown)} more" if refused > len(shown) else "") if shown else "these companies"
    )
    who = f" ({', '.join(f'<@{user}>' for user in subscribers)} subscribed it)" if subscribers else ""
    text = (
        "Snoozing silences this channel, so it takes what unsubscribing takes: the Company settings permission "
        f"on {what}, or having subscribed this channel{who}. Nothing changed."
    )
    return Message(text=text, blocks=[section(text)])
