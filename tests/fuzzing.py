"""A seeded generator of hostile requests to /slack/events, shared by the fuzz test and bench/bench_fuzz.py.

Each request starts from a real Slack payload (../shared/slack, read in place) of one of four kinds (slash
command, block_actions, view_submission, event_callback) and is then bent: fields given the wrong type,
removed, nested deep, ids in other scripts, bodies that are not objects; a fifth of the requests also get
forged or garbled signature headers, charsets or bytes. The same seed gives the same requests.
"""

from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SHARED_SLACK = Path(__file__).resolve().parents[2] / "shared" / "slack"
KINDS = ("slash", "block_actions", "view_submission", "event")
ACTION_IDS = (
    "alert_ack",
    "alert_snooze_hour",
    "alert_snooze_day",
    "alert_check",
    "alert_help",
    "remind_account_holder",
    "reminder_granted",
    "open_status_card:0",
    "open_status_card:١",
    "home_page:next",
    "home_filter:all",
    "nope",
)
USERS = ("U_HOLDER", "U_TOM", "U_PRIYA", "U_STRANGER", "U_NOBODY")
# Slash texts that read but never change anything (a fuzzed subscribe by the holder would be a real one).
TEXTS = ("", "help", "list", "list errors", "Acme Ltd", "acme", "subscriptions", "article Token Required", "\u0000", "x" * 3000)


@dataclass(frozen=True)
class FuzzedRequest:
    body: bytes
    headers: dict[str, str]
    signed: bool  # correctly signed: a 4xx or a 200, never a 401
    what: str  # for a failure message


def _template(name: str) -> Any:
    return json.loads((SHARED_SLACK / name).read_text())


class Fuzzer:
    def __init__(self, secret: str, seed: int = 0, response_url: str = "http://127.0.0.1:9/none") -> None:
        self.secret = secret
        self.response_url = response_url
        self.rng = random.Random(seed)
        self.templates = {
            "block_actions": _template("bolt-python.block_actions.button.json"),
            "view_submission": _template("bolt-python.view_submission.json"),
            "event": _template("composed.event_callback.app_home_opened.home_tab.json"),
        }

    # --- values -----------------------------------------------------------------------------

    def hostile(self) -> Any:
        rng = self.rng
        choice = rng.randrange(16)
        if choice == 0:
            return None
        if choice == 1:
            return rng.choice([0, -1, 2**70, 1.5, 1e308, True, False])
        if choice == 2:
            return []
        if choice == 3:
            return {}
        if choice == 4:
            return "١٢٣"
        if choice == 5:
            return "9" * rng.choice([19, 30, 400])
        if choice == 6:
            return rng.choice(["i:", "g:1", "i:١", "i:" + "9" * 30, "i:-1", "i:1.5", "x:1", "i:²", "i: 1", "i:1_0"])
        if choice == 7:
            nested: Any = "deep"
            for _ in range(rng.choice([50, 200])):
                nested = [nested] if rng.random() < 0.5 else {"a": nested}
            return nested
        if choice == 8:
            return "\u202e\ufeff\x00<@U_HOLDER>&<>" * rng.randrange(1, 4)
        if choice == 9:
            return "x" * rng.choice([1, 5000])
        if choice == 10:
            return {"id": self.hostile()}
        if choice == 11:
            return [self.hostile() for _ in range(rng.randrange(3))]
        if choice == 12:
            return rng.choice(USERS)
        if choice == 13:
            return json.dumps({"f": rng.choice(["all", "x", None]), "p": rng.choice([1, -5, "1", 10**30])})
        return rng.choice(["", " ", "C_OPS", "c_1", "1", "i:1", "g:1"])

    def bend(self, value: Any, depth: int = 0) -> Any:
        """Changes one random place in a JSON-like value (or the value itself)."""
        rng = self.rng
        if depth > 6 or not isinstance(value, (dict, list)) or not value or rng.random() < 0.15:
            return self.hostile()
        value = copy.copy(value)
        if isinstance(value, dict):
            key = rng.choice(list(value))
            roll = rng.random()
            if roll < 0.15:
                del value[key]
            elif roll < 0.2:
                value[rng.choice(["user", "channel", "view", "actions", "event", "container", "type", "authorizations"])] = (
                    self.hostile()
                )
            else:
                value[key] = self.bend(value[key], depth + 1)
        else:
            index = rng.randrange(len(value))
            value[index] = self.bend(value[index], depth + 1)
        return value

    # --- payloads ---------------------------------------------------------------------------

    def payload(self, kind: str) -> tuple[str, str]:
        """(body text, content type), correctly formed but bent."""
        rng = self.rng
        if kind == "slash":
            fields: dict[str, Any] = {
                "command": "/integration-status",
                "text": rng.choice(TEXTS),
                "user_id": rng.choice(USERS),
                "channel_id": rng.choice(["C_OPS", "D1", ""]),
                "team_id": "T0G9PQBBK",
                "trigger_id": "1.2",
                "response_url": self.response_url,
            }
            for _ in range(rng.randrange(3)):
                key = rng.choice(list(fields) + ["payload", "ssl_check", "type"])
                if rng.random() < 0.3:
                    fields.pop(key, None)
                else:
                    fields[key] = rng.choice(["", "١", "{", "[]", "x" * 300, "%%", "\x00", "payload", "1"])
            return urlencode(fields), "application/x-www-form-urlencoded"
        body = copy.deepcopy(self.templates[kind])
        if kind == "block_actions":
            body["user"]["id"] = rng.choice(USERS)
            body["response_url"] = self.response_url
            body["actions"][0]["action_id"] = rng.choice(ACTION_IDS)
            body["actions"][0]["value"] = str(self.hostile()) if rng.random() < 0.7 else "i:1"
        elif kind == "event":
            body["event"]["user"] = rng.choice(USERS)
        for _ in range(rng.randrange(1, 4)):
            body = self.bend(body)
        if rng.random() < 0.05:
            body = rng.choice([[body], "text", 5, None])
        text = json.dumps(body)
        if kind == "event" or rng.random() < 0.2:
            return text, "application/json"
        return urlencode({"payload": text}), "application/x-www-form-urlencoded"

    def sign(self, body: bytes, timestamp: str) -> str:
        return str(SignatureVerifier(self.secret).generate_signature(timestamp=timestamp, body=body.decode("utf-8")))

    def request(self) -> FuzzedRequest:
        rng = self.rng
        kind = rng.choice(KINDS)
        text, content_type = self.payload(kind)
        body = text.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.sign(body, timestamp),
        }
        if rng.random() < 0.3:
            headers["X-Slack-Retry-Num"] = rng.choice(["1", "2", "x"])
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        if rng.random() < 0.1:  # Slack sends UTF-8 whatever a charset parameter says
            headers["Content-Type"] = content_type + rng.choice(["; charset=utf-16", "; charset=no-such", "; charset=utf-8"])
        if rng.random() >= 0.2:
            return FuzzedRequest(body, headers, True, kind)
        # Forged or garbled: whatever happens, a 401 (or a 4xx from the server itself), never a 5xx.
        forgery = rng.randrange(9)
        if forgery == 0:
            headers["X-Slack-Request-Timestamp"] = rng.choice(["abc", "1e9", "9" * 5000, "-1", " 1", "١٢٣", ""])
        elif forgery == 1:
            headers["X-Slack-Signature"] = rng.choice(["v0=é", "v0=" + "ü" * 64, "", "v1=00", "v0=" + "0" * 64])
        elif forgery == 2:
            headers["Content-Type"] = content_type + rng.choice(["; charset=utf-16", "; charset=no-such", "; charset="])
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        elif forgery == 3:
            body = body + b"\xff\xfe"
        elif forgery == 4:
            body = body.decode().encode("utf-16")
        elif forgery == 5:
            del headers["X-Slack-Signature"]
        elif forgery == 6:
            headers["X-Slack-Request-Timestamp"] = str(int(timestamp) - 3600)
        elif forgery == 7:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        else:
            good = self.sign(body, timestamp)
            headers["X-Slack-Signature"] = good[:-1] + ("1" if good.endswith("0") else "0")
        return FuzzedRequest(body, headers, False, f"forged {kind} ({forgery})")
