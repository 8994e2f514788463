"""Every workspace's practice (bot/services.py builds one), and which one a request from Slack goes to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Protocol

from bot.services import Services
from bot.workspaces import workspace_of

if TYPE_CHECKING:
    from bot.hosting import Hosting


class RequestContext(Protocol):
    """What Bolt's context says about where a request comes from (AsyncBoltContext has these)."""

    @property
    def team_id(self) -> str | None: ...

    @property
    def enterprise_id(self) -> str | None: ...

    @property
    def is_enterprise_install(self) -> bool | None: ...


class Practices:
    """The practices by workspace id. In single-workspace mode (SLACK_BOT_TOKEN) there is one, `single`, and
    every request goes to it, as before workspaces existed; with many workspaces a request goes to its own
    workspace's practice only, and to none when that workspace has not connected its feed."""

    def __init__(self, single: Services | None = None) -> None:
        self.single = single
        self._by_workspace: dict[str, Services] = {}
        # With many workspaces: installs, connections and each workspace's schedule (set by Hosting).
        self.hosting: Hosting | None = None

    @classmethod
    def of(cls, services: Services) -> Practices:
        return cls(single=services)

    def route(self, context: RequestContext) -> Services | None:
        if self.single is not None:
            return self.single
        workspace = workspace_of(context.team_id, context.enterprise_id, context.is_enterprise_install)
        return self._by_workspace.get(workspace) if workspace else None

    def get(self, workspace: str) -> Services | None:
        if self.single is not None:
            return self.single if workspace == self.single.store.workspace else None
        return self._by_workspace.get(workspace)

    def add(self, services: Services) -> None:
        self._by_workspace[services.store.workspace] = services

    def remove(self, workspace: str) -> Services | None:
        return self._by_workspace.pop(workspace, None)

    def __iter__(self) -> Iterator[Services]:
        if self.single is not None:
            yield self.single
        yield from list(self._by_workspace.values())

    def __len__(self) -> int:
        return len(self._by_workspace) + (self.single is not None)
