#!/usr/bin/python3
"""The write outage an application sees through each way of reaching the primary, on a crash and a switchover.

Per repeat, on a fresh `./cluster.sh up` cluster (node1 primary, node2 its synchronous standby), four writers insert a
row every 5 ms, each on its own path, all at once:
  libpq-uri   psycopg2 (libpq) through the multi-host URI `pgaf show uri` prints (target_session_attrs=read-write)
  npgsql-pkg  examples/FailoverWriter: Npgsql through the PgAutoFailover.Client package (hosts from the uri-service)
  haproxy     psycopg2 through HAProxy's read-write port (examples/haproxy/haproxy.cfg, checks on the uri-service)
  pgbouncer   psycopg2 through PgBouncer (transaction pooling), repointed by examples/PgBouncerRelay
Then: SIGKILL of the primary's keeper and every PostgreSQL process of it (crash); its keeper restarted (rejoin);
`pgaf perform switchover` once the old primary streams again. Each writer records every acknowledged insert with the
port of the server that took it (current_setting('port')). The outage of a path is the largest gap between two of its
acknowledged inserts from 1 s before the fault until every path has 50 acknowledged inserts on the new primary. At the
end, every acknowledged id of every path is looked up on the final primary ("lost" must be 0).
Printed: one line per repeat and path, then min / median / max per path and fault, with the date and load average.

Needs root, a Release build (dotnet build PgAutoFailover.sln -c Release), the broker (scripts/common.sh
ensure_rabbitmq), and installs haproxy, pgbouncer and python3-psycopg2 when missing. It runs `./cluster.sh down`
first: the local cluster is replaced.
Usage: bench/clients/run.py [--repeats 5]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = "/tmp/pgaf-cluster"
URI_SERVICE = "http://127.0.0.1:7103"
ENV = dict(os.environ, Keeper__AuthMethod="trust", RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/pgaf-cluster")
PGAF = f"{ROOT}/cli/PgAutoFailover.Cli/bin/Release/net10.0/pgaf"
WRITER = f"{ROOT}/examples/FailoverWriter/bin/Release/net10.0/FailoverWriter"
RELAY = f"{ROOT}/examples/PgBouncerRelay/bin/Release/net10.0/PgBouncerRelay"
PATHS = ["libpq-uri", "npgsql-pkg", "haproxy", "pgbouncer"]
TABLE = "client_paths"
INTERVAL = 0.005


def sh(*args, **kw):
    return subprocess.run(list(args), cwd=ROOT, env=ENV, check=True, capture_output=True, text=True, **kw).stdout


def ensure_packages():
    missing = [p for p, c in [("haproxy", "haproxy"), ("pgbouncer", "pgbouncer")] if not shutil.which(c)]
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        missing.append("python3-psycopg2")
    if missing:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=900", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=900", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def get(path):
    with urllib.request.urlopen(URI_SERVICE + path, timeout=5) as r:
        return json.load(r)


def nodes():
    return {n["name"]: n for n in get("/formations/default/nodes")["nodes"]}


def wait(predicate, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


class Writer(threading.Thread):
    """psycopg2 inserting one row per transaction; every ack is (time, port, id)."""

    def __init__(self, name, dsn, first_id):
        super().__init__(daemon=True)
        self.name, self.dsn, self.next_id, self.acks, self.stop = name, dsn, first_id, [], threading.Event()

    def run(self):
        import psycopg2
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg2.connect(self.dsn, connect_timeout=2)
                    conn.autocommit = True
                self.next_id += 1
                cur = conn.cursor()
                cur.execute(f"INSERT INTO {TABLE} (id, path) VALUES (%s, %s) RETURNING current_setting('port')::int", (self.next_id, self.name))
                self.acks.append((time.time(), cur.fetchone()[0], self.next_id))
            except Exception:
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
            time.sleep(INTERVAL)


class AcksFile:
    """The acks FailoverWriter appends: "id port unix-ms" per line."""

    def __init__(self, path):
        self.path = path

    @property
    def acks(self):
        out = []
        with open(self.path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    out.append((int(parts[2]) / 1000.0, int(parts[1]), int(parts[0])))
        return out


def port_of(name):
    return nodes()[name]["port"]


def primary_name():
    return [n for n, v in nodes().items() if v["role"] == "primary"][0]


def outage(acks, since, until):
    times = [t for t, _, _ in acks if since <= t <= until]
    return max((b - a for a, b in zip(times, times[1:])), default=None)


def settled_on(paths_acks, port, after, count=50):
    return all(sum(1 for t, p, _ in acks if t > after and p == port) >= count for acks in paths_acks.values())


def crash(node):
    keeper = open(f"{CLUSTER}/{node}.pid").read().strip()
    postmaster = open(f"{CLUSTER}/{node}/data/postmaster.pid").readline().strip()
    children = subprocess.run(["pgrep", "-P", postmaster], capture_output=True, text=True).stdout.split()
    subprocess.run(["kill", "-9", keeper, postmaster, *children], capture_output=True)


def run_once(work, repeat):
    sh("./cluster.sh", "down")
    sh("./cluster.sh", "up")
    wait(lambda: {n: v["reportedState"] for n, v in nodes().items()} == {"node1": "primary", "node2": "secondary"}, "node1 primary, node2 secondary")
    sh("psql", "-h", "127.0.0.1", "-p", str(port_of("node1")), "-U", "postgres", "-d", "postgres", "-qc",
       f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, path text NOT NULL)")
    uri = urllib.request.urlopen(urllib.request.Request(URI_SERVICE + "/formations/default/uri", headers={"Accept": "text/plain"})).read().decode().strip()

    d = tempfile.mkdtemp(prefix="clients-", dir=work)
    shutil.chown(d, "postgres", "postgres")
    ini = f"{d}/pgbouncer.ini"
    with open(ini, "w") as f:
        f.write(f"""[databases]
appdb = host=127.0.0.1 port={port_of('node1')} dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir =
auth_type = trust
auth_file = {d}/users.txt
pidfile = {d}/pgbouncer.pid
logfile = {d}/pgbouncer.log
pool_mode = transaction
server_login_retry = 0.1
server_connect_timeout = 2
""")
    with open(f"{d}/users.txt", "w") as f:
        f.write('"postgres" ""\n')
    for p in os.listdir(d):
        shutil.chown(f"{d}/{p}", "postgres", "postgres")
    procs = []
    try:
        procs.append(subprocess.Popen(["haproxy", "-db", "-f", f"{ROOT}/examples/haproxy/haproxy.cfg"], stdout=open(f"{d}/haproxy.log", "w"), stderr=subprocess.STDOUT))
        subprocess.run(["runuser", "-u", "postgres", "--", "pgbouncer", "-d", ini], check=True)
        procs.append(subprocess.Popen(["runuser", "-u", "postgres", "--", RELAY, "--ini", ini, "--database", "appdb"],
                                      stdout=open(f"{d}/relay.log", "w"), stderr=subprocess.STDOUT))
        acks_file = f"{d}/npgsql.acks"
        procs.append(subprocess.Popen([WRITER, "--acks", acks_file, "--interval-ms", "5", "--json"], stdout=open(f"{d}/writer.log", "w"), stderr=subprocess.STDOUT))
        writers = {"libpq-uri": Writer("libpq-uri", uri.replace("postgres://", "postgresql://postgres@", 1), 1_000_000_000 * (repeat * 10 + 1)),
                   "haproxy": Writer("haproxy", "host=127.0.0.1 port=5000 user=postgres dbname=postgres", 1_000_000_000 * (repeat * 10 + 2)),
                   "pgbouncer": Writer("pgbouncer", "host=127.0.0.1 port=6432 user=postgres dbname=appdb", 1_000_000_000 * (repeat * 10 + 3))}
        for w in writers.values():
            w.start()
        all_acks = lambda: {**{n: w.acks for n, w in writers.items()}, "npgsql-pkg": AcksFile(acks_file).acks if os.path.exists(acks_file) else []}
        wait(lambda: settled_on(all_acks(), port_of("node1"), 0), "every path to write on node1", 60)

        results = {}
        for fault in ["crash", "switchover"]:
            old = primary_name()
            new = "node2" if old == "node1" else "node1"
            at = time.time()
            if fault == "crash":
                crash(old)
            else:
                sh(PGAF, "perform", "switchover")
            wait(lambda: settled_on(all_acks(), port_of(new), at), f"every path to write on {new} after the {fault}", 120)
            end = time.time()
            results[fault] = {p: outage(a, at - 1, end) for p, a in all_acks().items()}
            if fault == "crash":
                sh("./cluster.sh", "start-keeper", old)
                wait(lambda: nodes()[old]["reportedState"] == "secondary" and nodes()[new]["reportedState"] == "primary", f"{old} to rejoin", 120)
                time.sleep(1)
        for w in writers.values():
            w.stop.set()
        procs[-1].terminate()  # SIGTERM: a SIGINT is ignored when this script was started in the background
        procs[-1].wait(timeout=30)
        final = primary_name()
        # FailoverWriter keeps its own table (examples/FailoverWriter/WriteLoop.cs).
        present = set(int(x) for x in sh("psql", "-h", "127.0.0.1", "-p", str(port_of(final)), "-U", "postgres", "-d", "postgres", "-Atc",
                                          f"SELECT id FROM {TABLE} UNION ALL SELECT id FROM pgaf_example_writes").split())
        lost = {p: sum(1 for _, _, i in a if i not in present) for p, a in all_acks().items()}
        return results, lost
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        try:
            os.kill(int(open(f"{d}/pgbouncer.pid").read()), signal.SIGTERM)
        except Exception:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the logs of HAProxy, PgBouncer, the relay and FailoverWriter")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    ensure_packages()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average {os.getloadavg()[0]:.2f}, {args.repeats} repeats")
    work = tempfile.mkdtemp(prefix="pgaf-bench-clients-")
    os.chmod(work, 0o755)  # PgBouncer and the relay run as postgres
    figures = {f: {p: [] for p in PATHS} for f in ["crash", "switchover"]}
    lost_total = {p: 0 for p in PATHS}
    try:
        for r in range(args.repeats):
            results, lost = run_once(work, r)
            for fault, by_path in results.items():
                for p in PATHS:
                    figures[fault][p].append(by_path[p])
                print(f"repeat {r + 1} {fault:10}: " + "  ".join(f"{p} {by_path[p]:.3f} s" for p in PATHS), flush=True)
            print(f"repeat {r + 1} lost      : " + "  ".join(f"{p} {lost[p]}" for p in PATHS), flush=True)
            for p in PATHS:
                lost_total[p] += lost[p]
    finally:
        if args.keep:
            shutil.copytree(CLUSTER, f"{work}/cluster", ignore=shutil.ignore_patterns("data", "store", "secrets", ".s.PGSQL.*"), dirs_exist_ok=True)
        subprocess.run(["./cluster.sh", "down"], cwd=ROOT, env=ENV, capture_output=True)
        if args.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nwrite outage, s (min / median / max of {args.repeats}); load average at the end {os.getloadavg()[0]:.2f}")
    print(f"{'path':12} {'crash':>24} {'switchover':>24} {'lost':>6}")
    for p in PATHS:
        cells = []
        for fault in ["crash", "switchover"]:
            v = figures[fault][p]
            cells.append(f"{min(v):.3f} / {statistics.median(v):.3f} / {max(v):.3f}")
        print(f"{p:12} {cells[0]:>24} {cells[1]:>24} {lost_total[p]:>6}")


if __name__ == "__main__":
    main()
