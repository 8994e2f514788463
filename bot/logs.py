"""Log set-up: LOG_LEVEL, LOG_FORMAT (`text`, or `json`: one JSON object a line, by python-json-logger).

A JSON line carries the fields a log call passes with `extra=` (`outbox_key`, `channel`, `company`), and
`workspace` (the Slack team id, once `auth.test` has told it) on every line.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Workspace(logging.Filter):
    """Stamps each record with the workspace it concerns, unless the call named one."""

    team_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.team_id and not hasattr(record, "workspace"):
            record.workspace = self.team_id
        return True


_workspace = _Workspace()


def workspace_logging(team_id: str | None) -> None:
    """From now on, log lines name this workspace (single-workspace mode: the bot token's team)."""
    _workspace.team_id = team_id or None


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Root logging to stderr at `level` (a logging level name) in `fmt` (`text` or `json`)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_workspace)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # One line per scheduled run is noise; APScheduler's warnings (a missed run) still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # bm25s logs its index building at DEBUG through a logger it sets to DEBUG itself: quiet at INFO.
    logging.getLogger("bm25s").setLevel(max(logging.WARNING, root.level))
