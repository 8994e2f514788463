"""How one channel is told of its new alerts in one poll: device alerts, single alerts or a storm. Pure.

Sources: SPEC.md "Alerts" (many companies going wrong in one poll make one grouped alert) and "One computer,
one alert" (Sync Apps offline on one computer make one alert naming the computer). The rules, in order:

1. A Sync App alert whose computer (its location) already has a device alert in the channel, open or
   cleared within the flap window, joins it: that message is updated, not a new one posted.
2. The other Sync App alerts with a known location make one new device alert per computer, however many
   companies are on it (one company too, so that the next one on that computer has an alert to join).
3. The rest (errors, disconnections, Sync Apps whose location is unknown) are single alerts.
4. When the new messages of rules 2 and 3 are more than `threshold`, they are one storm instead: its
   message groups the Sync App alerts by computer. Joins (rule 1) are updates and never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from bot.alerting.conditions import Condition
from bot.practice.devices import location_key


@dataclass(frozen=True, slots=True)
class NewAlert:
    """One incident a channel is to be told of: its condition and detail (a Sync App's location)."""

    incident_id: int
    condition: Condition
    detail: str

    @property
    def computer(self) -> str | None:
        """The computer's key for a Sync App alert with a known location, else None."""
        return location_key(self.detail) if self.condition is Condition.SYNC_OFFLINE else None


@dataclass(slots=True)
class Route:
    """What the channel gets: each list holds incident ids, in the order they were given."""

    joins: dict[int, list[int]] = field(default_factory=dict)  # existing device alert (group id) -> joiners
    devices: list[tuple[str, list[int]]] = field(default_factory=list)  # (location as first seen, incidents)
    singles: list[int] = field(default_factory=list)
    storm: list[int] = field(default_factory=list)

    @property
    def new_messages(self) -> int:
        return len(self.devices) + len(self.singles) + (1 if self.storm else 0)


def route(alerts: Sequence[NewAlert], device_alerts: Mapping[str, int], threshold: int) -> Route:
    """`device_alerts`: computer key -> the channel's device alert (group id) it may still join."""
    result = Route()
    devices: dict[str, tuple[str, list[int]]] = {}
    for alert in alerts:
        computer = alert.computer
        if computer is None:
            result.singles.append(alert.incident_id)
        elif computer in device_alerts:
            result.joins.setdefault(device_alerts[computer], []).append(alert.incident_id)
        else:
            devices.setdefault(computer, (alert.detail.strip(), []))[1].append(alert.incident_id)
    result.devices = list(devices.values())
    if len(result.devices) + len(result.singles) > threshold:
        order = {alert.incident_id: n for n, alert in enumerate(alerts)}
        grouped = result.singles + [i for _, ids in result.devices for i in ids]
        result.storm = sorted(grouped, key=order.__getitem__)
        result.devices, result.singles = [], []
    return result
