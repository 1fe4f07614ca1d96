#!/usr/bin/python3
"""Failover as an application meets it, this project and pg_auto_failover side by side.

An external libpq client (psycopg2) inserts one row every 5 ms through the multi-host connection string
(target_session_attrs=read-write, connect_timeout=1, 20 ms between failed attempts) and records when each insert
was acknowledged, while the system's status command runs every 0.3 s (as a dashboard, or the harness, does). Per run, on a
fresh two-node cluster of each system:
  crash       SIGKILL of the primary's agent (keeper / pg_autoctl) and of every process of its PostgreSQL, then,
              once the other node took over, the agent started again (rejoin);
  switchover  the system's own switchover command.
  addnode     a third node added to the running cluster (cluster.sh add-node / pg_autoctl create postgres + run),
              timed until the primary streams to two standbys.
Printed per run: the write outage (largest gap between two acknowledged inserts), acknowledged inserts missing from
the final primary, the rejoin time (agent start -> the old primary streams as a synchronous standby), the setup
time, one `show state` call (pgaf / pg_autoctl, median of 5 on the healthy cluster: wall, CPU-s, max RSS); for
this project also a timeline of the failover from the monitor's events. Then min / median / max per
system and the ratio. docs/failover-timing.md explains the figures.

Needs: root (PostgreSQL runs as the postgres user), a Release build (dotnet build PgAutoFailover.sln -c Release),
Debian's python3-psycopg2, and for the comparison postgresql-15-auto-failover and pg-auto-failover-cli.
Usage: bench/failover/run.py [--systems ours,pg_auto_failover] [--scenarios crash,switchover,addnode] [--repeats 5]
"""
import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PGBIN = "/usr/lib/postgresql/15/bin"
WORK = "/tmp/pgaf-failover-bench"


def sh(cmd, env=None, check=True, timeout=300):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd, r.returncode, (r.stdout + r.stderr)[-2000:]))
    return r.stdout


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = sh(["pgrep", "-P", str(p)], check=False).split()
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def postmaster_pid(pgdata):
    try:
        with open(os.path.join(pgdata, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def kill_tree(*roots):
    """SIGKILL to every process of the trees at once; returns the instant of the first signal."""
    pids = set()
    for r in roots:
        if r:
            pids.add(r)
            pids.update(descendants(r))
    at = time.time()
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return at


def query(port, sql):
    c = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=1)
    try:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        c.close()


def try_query(port, sql):
    try:
        return query(port, sql)
    except psycopg2.Error:
        return None


class Writer(threading.Thread):
    """One INSERT per tick through the multi-host URI; every acknowledgement with its wall time and server port."""

    RETRY = 0.02

    def __init__(self, dsn, interval=0.005):
        super().__init__(daemon=True)
        self.dsn, self.interval, self.acks, self.errors, self.stop = dsn, interval, [], 0, False

    def run(self):
        # An ordinary client: after a failed connect or insert it waits RETRY (20 ms) and tries again, and the insert
        # schedule never builds up a debt to be paid in a burst. (An earlier version retried without pause after a
        # stall; during a switchover that forked a backend on the read-only candidate every few milliseconds and
        # made the bench's outage 0.1 s longer than the harness's.)
        conn, next_id, tick = None, 1, time.time()
        while not self.stop:
            try:
                if conn is None:
                    conn = psycopg2.connect(self.dsn)
                    conn.autocommit = True
                now = time.time()
                if tick > now:
                    time.sleep(tick - now)
                tick = max(tick + self.interval, time.time() - self.interval)
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO bench_writes (id) VALUES (%s)", (next_id,))
                self.acks.append((next_id, time.time(), conn.info.port))
                next_id += 1
            except psycopg2.Error:
                self.errors += 1
                next_id += 1  # an insert without an answer may or may not have committed: never reuse its id
                try:
                    conn and conn.close()
                except psycopg2.Error:
                    pass
                conn = None
                time.sleep(self.RETRY)
        if conn is not None:
            conn.close()

    def outage(self, since):
        """Largest gap between consecutive acknowledgements from one second before `since` on."""
        times = [t for _, t, _ in self.acks if t >= since - 1]
        return max((b - a for a, b in zip(times, times[1:])), default=None)

    def first_ack_on(self, port, since):
        return next((t for _, t, p in self.acks if p == port and t >= since), None)


class Ours:
    name = "ours"

    def __init__(self):
        self.dir, self.base = WORK + "/ours", 6100
        self.env = dict(os.environ, PGAF_CLUSTER_DIR=self.dir, PGAF_BASE_PORT=str(self.base), Keeper__AuthMethod="trust",
                        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/pgaf-cluster", PGAF_MONITOR="http://127.0.0.1:7101")

    def setup(self):
        self.ports = {"node1": self.base + 1, "node2": self.base + 2}
        sh([ROOT + "/cluster.sh", "up"], env=self.env, timeout=600)

    def teardown(self):
        sh([ROOT + "/cluster.sh", "down"], env=self.env, check=False)

    def crash(self, node):
        with open("%s/%s.pid" % (self.dir, node)) as f:
            keeper = int(f.read())
        return kill_tree(keeper, postmaster_pid("%s/%s/data" % (self.dir, node)))

    def start(self, node):
        sh([ROOT + "/cluster.sh", "start-keeper", node], env=self.env)

    def switchover(self):
        sh([ROOT + "/cli/PgAutoFailover.Cli/bin/Release/net10.0/pgaf", "perform", "switchover", "--wait", "120"], env=self.env)

    def show_state(self):
        return [ROOT + "/cli/PgAutoFailover.Cli/bin/Release/net10.0/pgaf", "show", "state"], self.env

    def add_node(self):
        self.ports["node3"] = self.base + 3
        sh([ROOT + "/cluster.sh", "add-node"], env=self.env, timeout=300)

    def events(self):
        out = sh([ROOT + "/cli/PgAutoFailover.Cli/bin/Release/net10.0/pgaf", "show", "events", "--count", "60", "--json"],
                 env=self.env, check=False)
        try:
            return [(datetime.datetime.fromisoformat(e["eventtime"]).timestamp(), e["description"]) for e in json.loads(out)]
        except ValueError:
            return []


class PgAutoFailover:
    name = "pg_auto_failover"

    def __init__(self):
        self.dir, self.mon_port = WORK + "/pgaf", 6200
        self.xdg = {"XDG_CONFIG_HOME": self.dir + "/xdg/config", "XDG_DATA_HOME": self.dir + "/xdg/data",
                    "XDG_RUNTIME_DIR": self.dir + "/xdg/run"}

    def ctl(self, *args, background=False):
        cmd = ["runuser", "-u", "postgres", "--", "env", "PATH=%s:/usr/bin:/bin" % PGBIN, "HOME=" + self.dir] + \
              ["%s=%s" % kv for kv in self.xdg.items()] + ["pg_autoctl"] + list(args)
        if background:
            name = os.path.basename(args[-1])
            log = open("%s/%s.log" % (self.dir, name), "a")
            return subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        return sh(cmd, timeout=300)

    def setup(self):
        self.ports = {"node1": 6201, "node2": 6202}
        sh(["rm", "-rf", self.dir])
        os.makedirs(self.dir + "/xdg/run")
        sh(["chown", "-R", "postgres:postgres", self.dir])
        common = ["--auth", "trust", "--no-ssl", "--pgctl", PGBIN + "/pg_ctl", "--hostname", "127.0.0.1"]
        self.ctl("create", "monitor", "--pgport", str(self.mon_port), *common, "--pgdata", self.dir + "/monitor")
        self.agents = {"monitor": self.ctl("run", "--pgdata", self.dir + "/monitor", background=True)}
        uri = "postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable" % self.mon_port
        for node, port in self.ports.items():
            deadline = time.time() + 60
            while try_query(self.mon_port, "SELECT 1") is None and time.time() < deadline:
                time.sleep(0.1)
            self.ctl("create", "postgres", "--pgport", str(port), "--listen", "127.0.0.1", "--name", node, "--monitor", uri,
                     *common, "--pgdata", "%s/%s" % (self.dir, node))
            self.start(node)

    def teardown(self):
        for name in ("node3", "node2", "node1", "monitor"):
            agent = getattr(self, "agents", {}).get(name)
            if agent:
                agent.terminate()
                try:
                    agent.wait(30)
                except subprocess.TimeoutExpired:
                    kill_tree(agent.pid)
            pm = postmaster_pid("%s/%s" % (self.dir, name))
            if pm:
                sh(["runuser", "-u", "postgres", "--", PGBIN + "/pg_ctl", "-D", "%s/%s" % (self.dir, name), "-m", "immediate", "stop"], check=False)
        sh(["rm", "-rf", self.dir], check=False)

    def crash(self, node):
        at = kill_tree(self.agents[node].pid, postmaster_pid("%s/%s" % (self.dir, node)))
        self.agents[node].wait()
        return at

    def start(self, node):
        self.agents[node] = self.ctl("run", "--pgdata", "%s/%s" % (self.dir, node), background=True)

    def switchover(self):
        self.ctl("perform", "switchover", "--pgdata", self.dir + "/monitor")

    def add_node(self):
        self.ports["node3"] = 6203
        uri = "postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable" % self.mon_port
        self.ctl("create", "postgres", "--pgport", "6203", "--listen", "127.0.0.1", "--name", "node3", "--monitor", uri,
                 "--auth", "trust", "--no-ssl", "--pgctl", PGBIN + "/pg_ctl", "--hostname", "127.0.0.1", "--pgdata", self.dir + "/node3")
        self.start("node3")

    def show_state(self):
        # runuser (pg_autoctl refuses root) is in the figure too: about a millisecond.
        cmd = ["runuser", "-u", "postgres", "--", "env", "PATH=%s:/usr/bin:/bin" % PGBIN, "HOME=" + self.dir] + \
              ["%s=%s" % kv for kv in self.xdg.items()] + ["pg_autoctl", "show", "state", "--pgdata", self.dir + "/monitor"]
        return cmd, None

    def events(self):
        return []


def primary_and_standby(system):
    """(primary, standby) once one node takes writes and the other streams from it as a synchronous standby."""
    for node, port in system.ports.items():
        rows = try_query(port, "SELECT pg_is_in_recovery() IS FALSE AND current_setting('default_transaction_read_only') = 'off', "
                               "(SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum'))")
        if rows and rows[0][0] and rows[0][1] > 0:
            other = next(n for n in system.ports if n != node)
            return node, other
    return None


class StatusPoller(threading.Thread):
    """What an operator's dashboard does, and the harness too: the system's status command every 0.3 s. Its CPU
    competes with a restarting agent on two cores, so the rejoin is measured under the same load as there."""

    def __init__(self, system, period=0.3):
        super().__init__(daemon=True)
        self.cmd, self.env = system.show_state()
        self.period, self.stop = period, False

    def run(self):
        while not self.stop:
            started = time.time()
            subprocess.run(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            time.sleep(max(0.0, self.period - (time.time() - started)))


def cli_call(system, calls=5):
    """Median wall seconds, CPU seconds and max RSS (MiB) of one `show state`, from the kernel's rusage of the child."""
    cmd, env = system.show_state()
    walls, cpus, rss = [], [], []
    for _ in range(calls):
        start = time.time()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.time() - start)
        if status != 0:
            raise RuntimeError("%s show state failed (status %d)" % (system.name, status))
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss / 1024)
    return statistics.median(walls), statistics.median(cpus), statistics.median(rss)


def streaming_standbys(port):
    rows = try_query(port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    return rows[0][0] if rows else 0


def wait_for(predicate, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value, time.time()
        time.sleep(step)
    return None, None


def timeline(events, fault, first_ack):
    """Where the time went, from the monitor's events: the first event of each kind after the fault."""
    marks = [("detected", ("unhealthy", "stopped streaming", "report your LSN", "operator switchover")),
             ("promotion decided", ("to prepare_promotion", "to stop_replication", "to report_lsn")),
             ("old primary fenced", ("is fenced", "to wait_primary")),
             ("new primary writable", ('reported by node 1: "wait_primary"', 'reported by node 2: "wait_primary"'))]
    parts = []
    for label, needles in marks:
        t = next((t for t, d in events if t >= fault - 0.05 and any(n in d for n in needles)), None)
        parts.append("%s +%.2f" % (label, t - fault) if t else "%s ?" % label)
    parts.append("first ack +%.2f" % (first_ack - fault) if first_ack else "first ack ?")
    return ", ".join(parts)


def one_run(system, scenario):
    r = {"system": system.name, "scenario": scenario}
    t0 = time.time()
    system.setup()
    pair, _ = wait_for(lambda: primary_and_standby(system), 120)
    if not pair:
        raise RuntimeError("%s: no primary with a synchronous standby after setup" % system.name)
    r["setup_s"] = time.time() - t0
    primary, standby = pair
    r["cli_wall_s"], r["cli_cpu_s"], r["cli_rss_mib"] = cli_call(system)
    if scenario == "addnode":
        start = time.time()
        system.add_node()
        ok, at = wait_for(lambda: streaming_standbys(system.ports[primary]) >= 2, 180)
        if not ok:
            raise RuntimeError("%s: the third node does not stream after 180 s" % system.name)
        r.update(add_s=at - start, outage_s=0.0, first_ack_s=0.0, rejoin_s=None, lost=0, errors=0, timeline="")
        system.teardown()
        return r
    query(system.ports[primary], "CREATE TABLE bench_writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
    dsn = "host=127.0.0.1,127.0.0.1 port=%d,%d dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=1" % (
        system.ports["node1"], system.ports["node2"])
    writer = Writer(dsn)
    writer.start()
    poller = StatusPoller(system)
    poller.start()
    try:
        time.sleep(3)
        fault = time.time()
        if scenario == "crash":
            fault = system.crash(primary)
        else:
            system.switchover()
        first, _ = wait_for(lambda: writer.first_ack_on(system.ports[standby], fault), 180)
        if not first:
            raise RuntimeError("%s %s: no write acknowledged by %s" % (system.name, scenario, standby))
        r["first_ack_s"] = first - fault
        if scenario == "crash":
            time.sleep(3)  # as the harness: the agent comes back 3 s after writes resumed
            restart = time.time()
            system.start(primary)
        else:
            restart = fault
        healthy, at = wait_for(lambda: primary_and_standby(system) == (standby, primary), 180)
        r["rejoin_s"] = at - restart if healthy else None
        time.sleep(2)
        r["outage_s"] = writer.outage(fault)
        r["errors"] = writer.errors
        events = system.events()
        r["timeline"] = timeline(events, fault, first) if events else ""
    finally:
        writer.stop = poller.stop = True
        writer.join(10)
        poller.join(40)
    acked = {i for i, _, _ in writer.acks}
    present = {row[0] for row in query(system.ports[standby], "SELECT id FROM bench_writes")}
    r["lost"] = len(acked - present)
    system.teardown()
    return r


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if all(isinstance(v, int) for v in values):
        return "%d / %g / %d" % (min(values), statistics.median(values), max(values))
    return "%.2f / %.2f / %.2f" % (min(values), statistics.median(values), max(values))


def summary3(values):
    return "%.3f / %.3f / %.3f" % (min(values), statistics.median(values), max(values)) if values else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default="ours,pg_auto_failover")
    ap.add_argument("--scenarios", default="crash,switchover")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: PostgreSQL runs as the postgres user")
    systems = {"ours": Ours, "pg_auto_failover": PgAutoFailover}
    chosen = [systems[s]() for s in args.systems.split(",")]
    os.makedirs(WORK, exist_ok=True)
    print("failover bench %s, %d cores, load average %s" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), os.cpu_count(), open("/proc/loadavg").read().split()[0]))
    results = []
    for scenario in args.scenarios.split(","):
        for n in range(1, args.repeats + 1):
            for system in chosen:
                try:
                    r = one_run(system, scenario)
                except Exception as e:  # a failed run is reported and the bench goes on
                    system.teardown()
                    print("%-16s %-10s run %d FAILED: %s" % (system.name, scenario, n, e), flush=True)
                    continue
                results.append(r)
                if scenario == "addnode":
                    print("%-16s %-10s run %d: node added and streaming in %.2f s, setup %.1f s" % (
                        system.name, scenario, n, r["add_s"], r["setup_s"]), flush=True)
                    continue
                print("%-16s %-10s run %d: outage %.3f s, first ack +%.3f s, lost %d, rejoin %s, setup %.1f s, "
                      "show state %.2f s / %.3f CPU-s / %.0f MiB%s" % (
                    system.name, scenario, n, r["outage_s"], r["first_ack_s"], r["lost"],
                    "%.2f s" % r["rejoin_s"] if r["rejoin_s"] is not None else "-", r["setup_s"],
                    r["cli_wall_s"], r["cli_cpu_s"], r["cli_rss_mib"],
                    ("\n    " + r["timeline"]) if r["timeline"] else ""), flush=True)
    print("\nmin / median / max, load average %s at the end" % open("/proc/loadavg").read().split()[0])
    for scenario in args.scenarios.split(","):
        medians = {}
        for system in chosen:
            rs = [r for r in results if r["system"] == system.name and r["scenario"] == scenario]
            if not rs:
                continue
            if scenario == "addnode":
                print("%-10s %-16s n=%d  add a node %s s | setup %s s" % (
                    scenario, system.name, len(rs), summary([r["add_s"] for r in rs]), summary([r["setup_s"] for r in rs])))
                continue
            medians[system.name] = statistics.median(r["outage_s"] for r in rs)
            print("%-10s %-16s n=%d  outage %s s | lost %s | rejoin %s s | setup %s s" % (
                scenario, system.name, len(rs), summary([r["outage_s"] for r in rs]), summary([r["lost"] for r in rs]),
                summary([r["rejoin_s"] for r in rs]), summary([r["setup_s"] for r in rs])))
        for system in chosen:
            rs = [r for r in results if r["system"] == system.name and r["scenario"] == scenario]
            if rs:
                print("%-10s %-16s show state: %s s wall | %s CPU-s | %s MiB" % (
                    scenario, system.name, summary([r["cli_wall_s"] for r in rs]), summary3([r["cli_cpu_s"] for r in rs]),
                    summary([r["cli_rss_mib"] for r in rs])))
        if len(medians) == 2 and medians.get("ours"):
            print("%-10s median outage ratio pg_auto_failover / ours: %.1f" % (scenario, medians["pg_auto_failover"] / medians["ours"]))


if __name__ == "__main__":
    main()
