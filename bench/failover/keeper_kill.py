#!/usr/bin/python3
"""Killing only the primary's keeper, as an application meets it.

PostgreSQL outlives a dead keeper until the keeper's lease is over (services/keeper/README.md, LeaseFile): a keeper
restarted within the lease takes the running server over and nothing changes for clients; one that stays dead lets
the server stop at the end of the lease, and the monitor fails over. Per run, on the cluster ./cluster.sh up made:
  restart    SIGKILL of the primary's keeper, then (once the kernel has it dead) ./cluster.sh start-keeper at once,
             as a supervisor would;
  norestart  SIGKILL of the primary's keeper alone; afterwards both keepers are started again for the next run.
An external libpq client (psycopg2) inserts a row every 5 ms through the multi-host connection string; printed per
run: the largest gap between two acknowledged inserts, where it started after the kill, the node that takes the
writes 5 s after the kill and whether the primary's postmaster is the same process at the end; then min / median /
max of the gap.

Needs: root, a Release build, python3-psycopg2, and `Keeper__AuthMethod=trust ./cluster.sh up` (default ports).
Usage: bench/failover/keeper_kill.py [--mode restart|norestart] [--repeats 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import threading
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = "/tmp/pgaf-cluster"
URI = "postgresql://postgres@127.0.0.1:5501,127.0.0.1:5502/postgres?target_session_attrs=read-write&connect_timeout=1"
ENV = dict(os.environ, Keeper__AuthMethod="trust", RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/pgaf-cluster")


def primary():
    out = subprocess.run([f"{ROOT}/cli/PgAutoFailover.Cli/bin/Release/net10.0/pgaf", "show", "state", "--json"],
                         capture_output=True, text=True, env=ENV, check=True).stdout
    return [n["nodename"] for n in json.loads(out) if n["current_group_state"] == "primary"][0]


def postmaster(node):
    path = f"{CLUSTER}/{node}/data/postmaster.pid"
    return open(path).readline().strip() if os.path.exists(path) else None


def run_once(restart):
    acks, stop = [], threading.Event()

    def writer():
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = psycopg2.connect(URI)
                    conn.autocommit = True
                    conn.cursor().execute("CREATE TABLE IF NOT EXISTS keeper_kill (id bigserial primary key, at float8)")
                conn.cursor().execute("INSERT INTO keeper_kill(at) VALUES (%s)", (time.time(),))
                acks.append((time.time(), conn.info.port))
                time.sleep(0.005)
            except psycopg2.Error:
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
                time.sleep(0.02)

    node = primary()
    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(2)
    keeper = open(f"{CLUSTER}/{node}.pid").read().strip()
    before = postmaster(node)
    killed = time.time()
    # A killed keeper is a zombie until PID 1 reaps it; "dead" is when /proc says so.
    command = f"kill -9 {keeper}; while [ -r /proc/{keeper}/stat ] && ! grep -q ') [ZX] ' /proc/{keeper}/stat; do sleep 0.01; done"
    if restart:
        command += f"; ./cluster.sh start-keeper {node}"
    subprocess.run(["bash", "-c", command], cwd=ROOT, env=ENV, capture_output=True, timeout=30)
    restarted = time.time() - killed
    time.sleep(12)
    stop.set()
    thread.join()
    after = [a for a in acks if a[0] > killed - 0.5]
    gap, at = max((after[i + 1][0] - after[i][0], after[i][0] - killed) for i in range(len(after) - 1))
    result = {"mode": "restart" if restart else "norestart", "primary": node, "keeper_started_after_s": round(restarted, 3) if restart else None,
              "largest_gap_s": round(gap, 3), "gap_began_after_kill_s": round(at, 3),
              "writes_on_port_after_5s": sorted({p for t, p in acks if t > killed + 5}), "same_postmaster": before == postmaster(node)}
    if not restart:
        for n in ("node1", "node2"):
            subprocess.run(["./cluster.sh", "start-keeper", n], cwd=ROOT, env=ENV, capture_output=True, timeout=30)
    time.sleep(8)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["restart", "norestart"], default="restart")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    gaps = []
    for _ in range(args.repeats):
        result = run_once(args.mode == "restart")
        print(json.dumps(result), flush=True)
        gaps.append(result["largest_gap_s"])
    load = open("/proc/loadavg").read().split()[:3]
    print(f"{args.mode}: largest write gap min / median / max = {min(gaps):.3f} / {statistics.median(gaps):.3f} / {max(gaps):.3f} s "
          f"(n={len(gaps)}, {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load {' '.join(load)})")


if __name__ == "__main__":
    main()
