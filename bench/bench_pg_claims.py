"""Leases claimed with FOR UPDATE SKIP LOCKED, from 3 processes, one of them killed with SIGKILL.

Run from the repository root:  TEST_DATABASE_URL=postgresql://... python bench/bench_pg_claims.py
(`.ci/run` shows how to start the machine's PostgreSQL and make that database.) Everything happens in a
schema of its own, dropped at the end. Without TEST_DATABASE_URL it says so and exits 0.

1. Outbox: 3,000 rows in 30 channels. Each process claims channel heads (the oldest pending row of a channel
   whose head nobody holds) under a 2 s lease, "posts" each (an insert into `posts`, standing for
   chat.postMessage) and marks it sent. One process is killed after 1 s; a row it held that is found
   in flight is first looked for in `posts` (as delivery looks in the channel after a crash) before posting.
2. Polls: 60 workspaces due every 1 s for 6 s. Each process claims due workspaces under a 2 s lease, "polls"
   (an insert into `polls`), and moves `next_poll_at` on by one interval. One process is killed after 2 s.

Targets (SPEC.md "Scaling out: PostgreSQL"): no alert posted twice, none lost, every channel in order; no
workspace polled twice for one due time by live processes (a poll cut short by a kill is redone: the outbox's
dedup keys keep its alerts single); the killed process's work taken over within its lease plus one
interval. Exits 1 when a target is missed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import secrets
import signal
import sys
import time

import psycopg
from psycopg import sql

LEASE = "2 seconds"
CHANNELS = 30
ROWS = 3000
WORKSPACES = 60
POLL_INTERVAL_S = 1.0
POLL_RUN_S = 6.0

CLAIM_HEADS = """
UPDATE outbox o SET claimed_by = %(me)s, claimed_until = now() + %(lease)s::interval
FROM (
    SELECT id FROM outbox h
    WHERE h.state = 'pending' AND (h.claimed_until IS NULL OR h.claimed_until < now())
      AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = h.channel AND e.state = 'pending' AND e.id < h.id)
    ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED
) c
WHERE o.id = c.id
RETURNING o.id, o.channel, o.in_flight_at IS NOT NULL
"""

CLAIM_POLLS = """
UPDATE workspace_polls w SET lease_owner = %(me)s, lease_until = now() + %(lease)s::interval
FROM (
    SELECT workspace FROM workspace_polls
    WHERE next_poll_at <= now() AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_poll_at LIMIT 5 FOR UPDATE SKIP LOCKED
) d
WHERE w.workspace = d.workspace
RETURNING w.workspace, w.next_poll_at
"""


def connect(url: str, schema: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    return conn


def outbox_worker(url: str, schema: str, me: str) -> None:
    conn = connect(url, schema)
    while True:
        rows = conn.execute(CLAIM_HEADS, {"me": me, "lease": LEASE}).fetchall()
        if not rows:
            if conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 0:
                return
            time.sleep(0.05)
            continue
        for row_id, channel, crashed_mid_send in rows:
            conn.execute("UPDATE outbox SET in_flight_at = now() WHERE id = %s AND claimed_by = %s", (row_id, me))
            already = crashed_mid_send and conn.execute("SELECT 1 FROM posts WHERE outbox_id = %s", (row_id,)).fetchone()
            if crashed_mid_send:
                conn.execute("UPDATE outbox SET taken_over_by = %s, found_posted = %s WHERE id = %s", (me, bool(already), row_id))
            if not already:
                conn.execute(
                    "INSERT INTO posts (outbox_id, channel, by, at) VALUES (%s, %s, %s, clock_timestamp())", (row_id, channel, me)
                )
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = clock_timestamp(), claimed_by = NULL, claimed_until = NULL "
                "WHERE id = %s AND claimed_by = %s",
                (row_id, me),
            )


def poll_worker(url: str, schema: str, me: str, until: float) -> None:
    conn = connect(url, schema)
    while time.time() < until:
        due = conn.execute(CLAIM_POLLS, {"me": me, "lease": LEASE}).fetchall()
        if not due:
            time.sleep(0.02)
            continue
        for workspace, due_at in due:
            conn.execute(
                "INSERT INTO polls (workspace, due_at, by, at) VALUES (%s, %s, %s, clock_timestamp())", (workspace, due_at, me)
            )
            time.sleep(0.02)  # the feed request
            conn.execute(
                "UPDATE workspace_polls SET next_poll_at = greatest(next_poll_at + %s * interval '1 second', now()), "
                "lease_owner = NULL, lease_until = NULL WHERE workspace = %s AND lease_owner = %s",
                (POLL_INTERVAL_S, workspace, me),
            )


def run(workers: list[mp.Process], kill_after_s: float, db: psycopg.Connection, holds: str) -> float:
    """Starts the workers, kills p0 once `kill_after_s` has passed and `holds` (a query) says it holds a lease."""
    for worker in workers:
        worker.start()
    time.sleep(kill_after_s)
    while not db.execute(holds).fetchone():
        time.sleep(0.001)
    os.kill(workers[0].pid, signal.SIGKILL)  # type: ignore[arg-type]
    killed_at = time.time()
    for worker in workers[1:]:
        worker.join(120)
    workers[0].join()
    return killed_at


def main() -> int:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        print("bench_pg_claims: skipped, TEST_DATABASE_URL is not set")
        return 0
    schema = f"bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    missed: list[str] = []
    try:
        db = connect(url, schema)
        db.execute(
            """
            CREATE TABLE outbox (id bigserial PRIMARY KEY, channel text NOT NULL, state text NOT NULL DEFAULT 'pending',
                                 in_flight_at timestamptz, sent_at timestamptz, taken_over_by text, found_posted boolean, claimed_by text, claimed_until timestamptz);
            CREATE INDEX outbox_channel_head ON outbox (channel, id) WHERE state = 'pending';
            CREATE TABLE posts (outbox_id bigint, channel text, by text, at timestamptz);
            CREATE TABLE workspace_polls (workspace text PRIMARY KEY, next_poll_at timestamptz NOT NULL,
                                          lease_owner text, lease_until timestamptz);
            CREATE TABLE polls (workspace text, due_at timestamptz, by text, at timestamptz);
            """
        )
        db.execute(
            "INSERT INTO outbox (channel) SELECT 'C' || (n %% %s) FROM generate_series(1, %s) AS n ORDER BY n", (CHANNELS, ROWS)
        )
        ctx = mp.get_context("fork")
        started = time.time()
        killed_at = run(
            [ctx.Process(target=outbox_worker, args=(url, schema, f"p{i}")) for i in range(3)],
            1.0,
            db,
            "SELECT 1 FROM outbox WHERE claimed_by = 'p0' AND in_flight_at IS NOT NULL",
        )
        finished = time.time()
        posted, distinct, twice = db.execute(
            "SELECT count(*), count(DISTINCT outbox_id), count(*) - count(DISTINCT outbox_id) FROM posts"
        ).fetchone()
        unsent = db.execute("SELECT count(*) FROM outbox WHERE state <> 'sent'").fetchone()[0]
        out_of_order = db.execute(
            "SELECT count(*) FROM (SELECT outbox_id < lag(outbox_id) OVER (PARTITION BY channel ORDER BY at) AS back FROM posts) x WHERE back"
        ).fetchone()[0]
        taken_over, found_posted, last_taken_s = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE found_posted), max(extract(epoch FROM sent_at)) - %s "
            "FROM outbox WHERE taken_over_by IS NOT NULL",
            (killed_at,),
        ).fetchone()
        by_worker = dict(db.execute("SELECT by, count(*) FROM posts GROUP BY by ORDER BY by").fetchall())
        print("Outbox: 3 processes, 2 s lease, p0 killed (SIGKILL) after 1 s")
        print(
            f"  rows {ROWS} in {CHANNELS} channels; posted {posted} ({distinct} distinct), posted twice {twice}, unsent {unsent}"
        )
        print(f"  posts by process {by_worker}; out of channel order {out_of_order}")
        print(
            f"  rows p0 held in flight when killed, taken over by another process: {taken_over} "
            f"({found_posted} found already posted, so not posted again); last of them sent {float(last_taken_s or 0):.2f} s after the kill"
        )
        print(
            f"  all sent {finished - started:.2f} s after start ({ROWS / (finished - started):.0f} rows/s incl. the lease wait)"
        )
        if twice or unsent or out_of_order or distinct != ROWS or not taken_over:
            missed.append("outbox: a row posted twice, lost or out of order")

        db.execute(
            "INSERT INTO workspace_polls (workspace, next_poll_at) SELECT 'T' || n, now() FROM generate_series(1, %s) AS n",
            (WORKSPACES,),
        )
        until = time.time() + POLL_RUN_S
        killed_at = run(
            [ctx.Process(target=poll_worker, args=(url, schema, f"p{i}", until)) for i in range(3)],
            2.0,
            db,
            "SELECT 1 FROM workspace_polls WHERE lease_owner = 'p0'",
        )
        polls, doubled, doubled_live = db.execute(
            "SELECT count(*), count(*) - count(DISTINCT (workspace, due_at)), "
            "count(*) FILTER (WHERE by <> 'p0') - count(DISTINCT (workspace, due_at)) FILTER (WHERE by <> 'p0') FROM polls"
        ).fetchone()
        worst_gap = db.execute(
            "SELECT max(gap) FROM (SELECT extract(epoch FROM at - lag(at) OVER (PARTITION BY workspace ORDER BY at)) AS gap FROM polls) g"
        ).fetchone()[0]
        by_worker = dict(db.execute("SELECT by, count(*) FROM polls GROUP BY by ORDER BY by").fetchall())
        print(
            f"Polls: {WORKSPACES} workspaces every {POLL_INTERVAL_S:.0f} s for {POLL_RUN_S:.0f} s, 3 processes, 2 s lease, p0 killed after 2 s"
        )
        print(
            f"  polls {polls} (ideal about {WORKSPACES * POLL_RUN_S:.0f}); polled twice for one due time {doubled_live} by live processes, "
            f"{doubled - doubled_live} redone after p0 died mid-poll"
        )
        print(f"  polls by process {by_worker}; longest gap between two polls of a workspace {float(worst_gap):.2f} s")
        if doubled_live or float(worst_gap) > POLL_INTERVAL_S + 2 + 0.5:
            missed.append(
                "polls: a workspace polled twice for one due time by live processes, or left longer than interval + lease"
            )
    finally:
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
