#!/usr/bin/env python3
"""Side-by-side benchmark: ClickPipeline (ingest + aggregate + report) vs the DuckDB and chDB references.

    python3 benchmarks/bench.py --events 5000000 --files 16            # generate if missing, 3 reps
    python3 benchmarks/bench.py --data /tmp/bench-data/5m --repeat 5
    python3 benchmarks/bench.py --events 500000 --scaling              # N vs 10N
    python3 benchmarks/bench.py --nightly --events-per-day 200000      # day 31 on a 30-day DB
    python3 benchmarks/bench.py --creators 5000 --products 20000       # the 5,000-creator set
    python3 benchmarks/bench.py --stages --data DIR                    # ours only: the steps of each stage
    python3 benchmarks/bench.py --shapes                               # adversarial inputs, N = 10k, 100k, 1M
    python3 benchmarks/bench.py --shapes --shapes-n 1000,10000 --shape late-clicks

Each repetition runs our three stages into a fresh database and the two reference pipelines
of ../shared/peers/ on the same files: DuckDB (duckdb_pipeline.py) and ClickHouse's engine
in-process (chdb_pipeline.py), each run with the venv's python; and measures per stage: wall
time, user+sys CPU time and peak RSS (os.wait4 on the child). Afterwards it checks that each
peer produced the same daily_metrics as ours (as multisets of rows, values normalised as
text). Standard library only; the peers run in subprocesses. If the venv cannot import
chdb, the chDB peer is skipped with a message (install: /tmp/peers/bin/pip install chdb).

Read floor and targets: each repetition also times the floor of just reading the input,
ISA-L's `igzip -dc FILE | wc -l` on the same files, as many at a time as there are cores
(gzip -dc, said so in the output, if igzip is missing: apt-get install isal), and right after
our report the floor of creating the same files (a Python loop: same names, folders and sizes,
in a fresh folder). The run ends with the targets, on medians of the run, each marked PASS or
MISS: ingest <= 3x the read floor; the three stages >= 3x DuckDB's and >= 1.5x chDB's
throughput (peer wall / ours); aggregate <= 1 s (for the 5,000-creator set only); peak RSS of
any stage <= 256 MiB (512 MiB from 50M events); database after ingest <= 40 bytes per input
line; report <= 1.5x its file-creation floor. --nightly: each stage <= 1.2x on the history.

--stages: ours only, a fresh database per repetition, each stage run with --stats-json FILE
(one JSON object: stage, events, wall_seconds, cpu_seconds, steps [{name, cpu_seconds}]); per
stage the steps' CPU (median) and ns/event, "other" = process CPU (wait4) - steps, wall/CPU/peak;
for ingest the read floor of the same run and the database's bytes per input line. A binary
that refuses --stats-json (usage error, exit 1 or 64) is run without it: "reports no steps".

--shapes: hand-made adversarial inputs, written once under BASE/shapes/ (valid per the
contract, default configuration, one day), for N in --shapes-n. Per shape and N: ingest
and aggregate into a fresh database (late-clicks: two runs, the figure is the second);
time, peak RSS, and a check of the expected daily_metrics figures and of no rejected line.
A shape PASSes if between successive N its time grows at most 1.2x as fast as N
(time ratio <= 1.2 x N ratio) and its peak stays bounded (peak <= 2 x the previous N's
peak + 64 MiB). A process past --timeout (default 600 s with --shapes) is killed and
reported as a timeout, and that shape's larger N are skipped. The shapes:
SHAPES_HELP

Exit status: 0 all stages ran and the outputs agree; 1 the outputs differ (--shapes: a
shape MISSed or a check failed); 2 a stage failed (its log is printed). A stage exiting 2
("some input files could not be read") is reported as a warning and the run goes on.
"""
import argparse
import collections
import csv
import datetime
import hashlib
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_BIN = os.path.join(REPO, ".build", "release")
DEFAULT_DUCKDB_PY = "/tmp/peers/bin/python"
DEFAULT_DUCKDB_SCRIPT = os.path.normpath(os.path.join(REPO, "..", "shared", "peers", "duckdb_pipeline.py"))
DEFAULT_CHDB_PY = "/tmp/peers/bin/python"
DEFAULT_CHDB_SCRIPT = os.path.normpath(os.path.join(REPO, "..", "shared", "peers", "chdb_pipeline.py"))
SYSTEMS = ("ours", "duckdb", "chdb")             # the names --only takes, in running order
PEERS = ("duckdb", "chdb")
PEER_NAME = {"ours": "ours", "duckdb": "DuckDB", "chdb": "chDB"}
PEER_LABEL = {"duckdb": "DuckDB reference", "chdb": "chDB (ClickHouse) reference"}
# The targets (current issues), judged on medians of the same run:
TARGET_INGEST_FLOOR = 3.0                       # ingest wall <= 3x the read floor
TARGET_VS_PEER = {"duckdb": 3.0, "chdb": 1.5}   # peer wall / our three stages' wall >=
TARGET_AGGREGATE_S = 1.0                        # aggregate wall <= 1 s, on the 5,000-creator set
TARGET_AGGREGATE_CREATORS = 5000
TARGET_PEAK = 256 * 2**20                       # peak RSS of any stage (the 5M sets) <=
TARGET_PEAK_LARGE, LARGE_EVENTS = 512 * 2**20, 50_000_000   # ... from 50M events on
TARGET_DB_BYTES_PER_EVENT = 40                  # database after ingest / input lines <=
TARGET_REPORT_FLOOR = 1.5                       # report wall <= 1.5x creating the same files
TARGET_NIGHTLY = 1.2                            # --nightly: each stage on the history DB / on an empty one <=
DEFAULT_BASE = "/tmp/bench-data"
DEFAULT_WORK = "/tmp/bench-work"

COLUMNS = ["day", "creator_id", "placement", "platform", "store", "product_id", "views",
           "unique_viewers", "bot_views", "clicks", "unique_clickers", "bot_clicks", "orders",
           "units", "revenue_cents", "commission_cents", "refunds", "refunded_cents",
           "reversed_commission_cents"]
N_DIMS = 6
EXPORT_SQL = ("SELECT " + ",".join(COLUMNS) + " FROM daily_metrics ORDER BY 1,2,3,4,5,6")


class StageFailed(Exception):
    def __init__(self, message, rc=None):
        Exception.__init__(self, message)
        self.rc = rc


class StageTimeout(StageFailed):
    pass


# ---------------------------------------------------------------------------------------
# Running and measuring one child process

class Stage:
    def __init__(self, name, wall, cpu, rss, rc):
        self.name, self.wall, self.cpu, self.rss, self.rc = name, wall, cpu, rss, rc


TIMEOUT = [None]   # seconds per stage (--timeout)


def run_stage(name, argv, log_path):
    """Run argv, wait with os.wait4 and return a Stage (wall s, user+sys s, peak RSS bytes)."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "wb") as log:
        log.write(("$ " + " ".join(argv) + "\n").encode())
        log.flush()
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        except OSError as e:
            raise StageFailed("%s: cannot start %s: %s" % (name, argv[0], e))
        timed_out = []
        timer = None
        if TIMEOUT[0]:
            def kill():
                timed_out.append(True)
                proc.kill()
            timer = threading.Timer(TIMEOUT[0], kill)
            timer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc   # already reaped: keep Popen from waiting again
    if timed_out:
        raise StageTimeout("%s did not finish within %s s and was killed (log: %s)" % (name, TIMEOUT[0], log_path))
    if rc not in (0, 2):
        with open(log_path, "rb") as f:
            tail = f.read()[-3000:].decode(errors="replace")
        raise StageFailed("%s exited with status %d (log: %s)\n%s" % (name, rc, log_path, tail), rc)
    if rc == 2:
        print("  warning: %s exited 2: some input files could not be read (log: %s)"
              % (name, log_path), file=sys.stderr)
    return Stage(name, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, rc)


def refused_option(log_path, option):
    """True if the log (after its first line, our command line) is a usage error naming option."""
    with open(log_path, "rb") as f:
        f.readline()
        text = f.read(20000).decode(errors="replace")
    return option in text


def read_stats(path, stage):
    """(stats, note) from a --stats-json file: {"stage", "events", "wall_seconds", "cpu_seconds",
    "steps": [{"name", "cpu_seconds"}, ...]}; stats None and note saying why if it is unusable."""
    try:
        with open(path) as f:
            stats = json.load(f)
    except OSError:
        return None, "accepted --stats-json but wrote no file"
    except ValueError as e:
        return None, "wrote a --stats-json file that is not JSON (%s)" % e
    try:
        if not isinstance(stats, dict):
            raise ValueError("not an object")
        steps = stats.get("steps") or []
        for step in steps:
            float(step["cpu_seconds"])
            str(step["name"])
        for k in ("events", "wall_seconds", "cpu_seconds"):
            if stats.get(k) is not None:
                float(stats[k])
    except (ValueError, TypeError, KeyError) as e:
        return None, "wrote --stats-json that does not have the expected fields (%s: %s)" % (type(e).__name__, e)
    if stats.get("stage") not in (None, stage):
        return stats, "says it is stage %r" % stats.get("stage")
    return stats, None


def db_bytes(db):
    """The database's size on disk: the file and its WAL, if any."""
    return sum(os.path.getsize(db + suffix) for suffix in ("", "-wal") if os.path.exists(db + suffix))


def file_creation_floor(src, dst):
    """The floor of writing a report: create in a fresh folder dst the files src holds (same names,
    same subfolders, same sizes) with a plain loop of os.open / os.write / os.close. Returns a
    Stage (wall and CPU of the loop, in this process) with .files and .bytes."""
    entries = []
    for root, dirs, names in os.walk(src):
        # Hidden folders are not the report: .creators.previous is the folder the next report
        # writes into (and leftovers of killed runs are named .NAME.tmp-PID).
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(root, src)
        entries.extend((rel, n, os.path.getsize(os.path.join(root, n))) for n in sorted(names))
    folders = sorted(set(rel for rel, _, _ in entries if rel != "."))
    data = memoryview(b"x" * max([size for _, _, size in entries] or [0]))
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    t0, c0 = time.perf_counter(), time.process_time()
    os.makedirs(dst)
    for rel in folders:
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for rel, name, size in entries:
        fd = os.open(os.path.join(dst, rel, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        view = data[:size]
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
    st = Stage("report file-creation floor", time.perf_counter() - t0, time.process_time() - c0, 0, 0)
    st.files, st.bytes = len(entries), sum(size for _, _, size in entries)
    return st


def generator_meta(path):
    """The data set's .generator.json, or {} (someone else's files)."""
    try:
        with open(os.path.join(path, ".generator.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def remove_db(db):
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)


def copy_db(src, dst):
    remove_db(dst)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


class Runner:
    def __init__(self, a):
        self.a = a
        self.bin = a.bin
        os.makedirs(a.work, exist_ok=True)
        self.floor_tool = "igzip" if shutil.which("igzip") else "gzip"
        self.floor_workers = os.cpu_count() or 1
        self.stats_ok = {}   # executable -> False once it refused --stats-json

    def exe(self, name):
        return os.path.join(self.bin, name)

    def check_ours(self):
        missing = [n for n in ("ingest", "aggregate", "report") if not os.access(self.exe(n), os.X_OK)]
        if missing:
            sys.exit("bench: %s not found in %s; build first: swift build -c release "
                     "(or pass --bin DIR, or --only duckdb,chdb)" % (", ".join(missing), self.bin))

    def check_duckdb(self):
        if not os.access(self.a.duckdb_python, os.X_OK):
            sys.exit("bench: %s not found; python3 -m venv /tmp/peers && /tmp/peers/bin/pip install duckdb"
                     % self.a.duckdb_python)
        if not os.path.exists(self.a.duckdb_script):
            sys.exit("bench: %s not found (pass --duckdb-script)" % self.a.duckdb_script)

    def check_chdb(self):
        """True if the chDB peer can run; otherwise say why on one line and return False."""
        py, why = self.a.chdb_python, None
        if not os.access(py, os.X_OK):
            why = "%s not found" % py
        elif not os.path.exists(self.a.chdb_script):
            why = "%s not found (pass --chdb-script)" % self.a.chdb_script
        else:
            r = subprocess.run([py, "-c", "import chdb"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode:
                last = (r.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
                why = "%s cannot import chdb (%s)" % (py, last)
        if why:
            print("chDB peer skipped: %s. To run it: python3 -m venv /tmp/peers && "
                  "/tmp/peers/bin/pip install chdb (or pass --chdb-python)" % why, flush=True)
        return why is None

    def ours(self, paths, db, out_dir, tag, stages=("ingest", "aggregate", "report"), fresh=True):
        if fresh:
            remove_db(db)
        logs = os.path.join(self.a.work, "logs")
        result = []
        if "ingest" in stages:
            result.append(run_stage("ingest", [self.exe("ingest"), "--db", db] + list(paths),
                                    os.path.join(logs, "%s-ingest.log" % tag)))
            result[-1].db_bytes = db_bytes(db)
        if "aggregate" in stages:
            result.append(run_stage("aggregate", [self.exe("aggregate"), "--db", db],
                                    os.path.join(logs, "%s-aggregate.log" % tag)))
        if "report" in stages:
            # A nightly report replaces the previous night's in the same folder, and builds the
            # new statements in the folder it replaced (.creators.previous). The timed report
            # does the same: into a folder that holds an earlier report of this data (one
            # untimed report makes it the first time).
            if not os.path.isdir(os.path.join(out_dir, ".creators.previous")):
                run_stage("report", [self.exe("report"), "--db", db, "--out", out_dir],
                          os.path.join(logs, "%s-report-warmup.log" % tag))
                run_stage("report", [self.exe("report"), "--db", db, "--out", out_dir],
                          os.path.join(logs, "%s-report-warmup.log" % tag))
            result.append(run_stage("report", [self.exe("report"), "--db", db, "--out", out_dir],
                                    os.path.join(logs, "%s-report.log" % tag)))
        return result

    def ours_stage_stats(self, name, args, tag):
        """Run our executable `name` with --stats-json FILE before `args`. Returns (Stage, stats, note):
        stats is the JSON object it wrote (None if none), note says why there is none. A binary that
        refuses the option (a usage error naming it, exit 1 or 64) is run again without it, and
        without it from then on."""
        logs = os.path.join(self.a.work, "logs")
        log = os.path.join(logs, "%s-%s.log" % (tag, name))
        stats_path = os.path.join(self.a.work, "%s-%s.stats.json" % (tag, name))
        if self.stats_ok.get(name, True):
            if os.path.exists(stats_path):
                os.remove(stats_path)
            try:
                st = run_stage(name, [self.exe(name), "--stats-json", stats_path] + list(args), log)
            except StageTimeout:
                raise
            except StageFailed as e:
                if e.rc not in (1, 64) or not refused_option(log, "--stats-json"):
                    raise
                self.stats_ok[name] = False
                os.replace(log, log + ".refused")
            else:
                return (st,) + read_stats(stats_path, name)
        return run_stage(name, [self.exe(name)] + list(args), log), None, "does not accept --stats-json"

    def read_floor(self, files, tag):
        """The floor of reading the input: `igzip -dc FILE | wc -l` for every file, floor_workers at a
        time (xargs -P). Returns ([Stage], lines counted)."""
        script = ('printf "%%s\\0" "$@" | xargs -0 -n 1 -P %d sh -c \'%s -dc "$1" | wc -l\' sh'
                  % (self.floor_workers, self.floor_tool))
        log = os.path.join(self.a.work, "logs", "%s-read-floor.log" % tag)
        st = run_stage("read floor", ["sh", "-c", script, "sh"] + list(files), log)
        counted = 0
        with open(log, errors="replace") as f:
            next(f)   # the command line
            for line in f:
                if line.strip().isdigit():
                    counted += int(line)
        return [st], counted

    def peer(self, which, data_dir, out_csv, tag):
        """One run of a reference pipeline ('duckdb' or 'chdb'): PY SCRIPT 'DIR/*.ndjson.gz' OUT [THREADS]."""
        if os.path.exists(out_csv):
            os.remove(out_csv)
        py, script = ((self.a.duckdb_python, self.a.duckdb_script) if which == "duckdb"
                      else (self.a.chdb_python, self.a.chdb_script))
        argv = [py, script, os.path.join(data_dir, "*.ndjson.gz"), out_csv]
        if self.a.threads:
            argv.append(str(self.a.threads))
        return [run_stage(which, argv, os.path.join(self.a.work, "logs", "%s-%s.log" % (tag, which)))]


# ---------------------------------------------------------------------------------------
# Data sets

DEFAULT_CREATORS, DEFAULT_PRODUCTS = 50_000, 20_000   # generate.py's defaults


def generate(a, out, events, files, days, start, seed):
    argv = [sys.executable, os.path.join(HERE, "generate.py"), "--events", str(events),
            "--files", str(files), "--days", str(days), "--start", start, "--seed", str(seed),
            "--creators", str(a.creators), "--products", str(a.products), "--out", out]
    if a.real:
        argv.insert(-2, "--real")
    print("generating: " + " ".join(argv), flush=True)
    subprocess.run(argv, check=True)


def ensure_data(a, path, events, files, days, start, seed):
    meta_path = os.path.join(path, ".generator.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        want = dict(events=events, files=files, days=days, start=start, seed=seed,
                    creators=a.creators, products=a.products, real=a.real)
        # Sets generated before --creators/--products/--real existed used the defaults.
        defaults = dict(creators=DEFAULT_CREATORS, products=DEFAULT_PRODUCTS, real=False)
        have = dict((k, meta.get(k, defaults.get(k))) for k in want)
        if (a.explicit_shape or not a.default_world or a.real or have["real"]) and have != want:
            print("note: %s was generated with %s; using it as it is" % (path, have), file=sys.stderr)
        return path
    if os.path.isdir(path) and any(n.endswith(".ndjson.gz") for n in os.listdir(path)):
        return path   # someone else's files: use them as they are
    generate(a, path, events, files, days, start, seed)
    return path


def data_files(path):
    return sorted(os.path.join(path, n) for n in os.listdir(path)
                  if n.endswith(".ndjson.gz") and not n.startswith("."))


def measure_input(path):
    """(files, lines, uncompressed bytes, gzip bytes), cached in PATH/.bench-size.json."""
    files = data_files(path)
    if not files:
        sys.exit("bench: no *.ndjson.gz files in %s" % path)
    key = [[os.path.basename(f), os.path.getsize(f), int(os.path.getmtime(f))] for f in files]
    cache = os.path.join(path, ".bench-size.json")
    try:
        with open(cache) as f:
            c = json.load(f)
        if c["key"] == key:
            return len(files), c["lines"], c["bytes"], c["gzip_bytes"]
    except (OSError, ValueError, KeyError):
        pass
    print("measuring uncompressed size of %d files (once)..." % len(files), flush=True)
    lines = raw = gz = 0
    for fn in files:
        gz += os.path.getsize(fn)
        d = zlib.decompressobj(47)
        with open(fn, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                while chunk:
                    out = d.decompress(chunk)
                    raw += len(out)
                    lines += out.count(b"\n")
                    if d.eof:   # next gzip member
                        chunk = d.unused_data
                        d = zlib.decompressobj(47)
                    else:
                        chunk = b""
            out = d.flush()
            raw += len(out)
            lines += out.count(b"\n")
    try:
        with open(cache, "w") as f:
            json.dump({"key": key, "lines": lines, "bytes": raw, "gzip_bytes": gz}, f)
    except OSError:
        pass
    return len(files), lines, raw, gz


# ---------------------------------------------------------------------------------------
# Comparing daily_metrics

def norm_metric(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    s = str(v).strip()
    if s == "":
        return "0"   # the reference's CSV writes NULL sums (nothing to add) as empty cells
    try:
        d = Decimal(s)
    except Exception:
        return s
    return str(int(d)) if d == d.to_integral_value() else str(d.normalize())


def norm_row(row):
    dims = ["NULL" if v is None else str(v) for v in row[:N_DIMS]]
    return tuple(dims + [norm_metric(v) for v in row[N_DIMS:]])


def digest(row):
    return hashlib.blake2b("\x1f".join(row).encode(), digest_size=16).digest()


def ours_rows(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        for row in con.execute(EXPORT_SQL):
            yield row
    finally:
        con.close()


def peer_rows(path, peer="duckdb"):
    """Rows of a peer's CSV (DuckDB: plain header; chDB: CSVWithNames, quoted; csv reads both)."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header != COLUMNS:
            raise SystemExit("bench: unexpected %s CSV header: %s" % (PEER_NAME[peer], header))
        for row in r:
            yield row


def ours_type_problems(db):
    """Metric values stored as something other than INTEGER, and NULL dimensions."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        checks = ["sum(typeof(%s) <> 'integer')" % c for c in COLUMNS[N_DIMS:]]
        checks += ["sum(%s IS NULL)" % c for c in COLUMNS[:N_DIMS]]
        got = con.execute("SELECT " + ",".join(checks) + " FROM daily_metrics").fetchone()
    finally:
        con.close()
    names = ["%s not INTEGER" % c for c in COLUMNS[N_DIMS:]] + ["%s NULL" % c for c in COLUMNS[:N_DIMS]]
    return [(n, v) for n, v in zip(names, got) if v]


def compare(a_name, a_rows, b_name, b_rows, show=5, db=None):
    """Compare two daily_metrics, each given as a function returning an iterator of rows; print the
    comparison and return the number of differing rows (both directions). db: ours, to check types."""
    a_c, b_c = collections.Counter(), collections.Counter()
    zero = tuple(["0"] * (len(COLUMNS) - N_DIMS))
    zeros = [0, 0]
    for row in a_rows():
        n = norm_row(row)
        a_c[digest(n)] += 1
        zeros[0] += n[N_DIMS:] == zero
    for row in b_rows():
        n = norm_row(row)
        b_c[digest(n)] += 1
        zeros[1] += n[N_DIMS:] == zero
    only_a, only_b = a_c - b_c, b_c - a_c
    n_a, n_b = sum(a_c.values()), sum(b_c.values())
    diff = sum(only_a.values()) + sum(only_b.values())
    print("\ndaily_metrics: %s %d rows, %s %d rows; rows only in %s %d, only in %s %d"
          % (a_name, n_a, b_name, n_b, a_name, sum(only_a.values()), b_name, sum(only_b.values())))
    if any(zeros):
        print("  all-zero rows (the contract wants none): %s %d, %s %d" % (a_name, zeros[0], b_name, zeros[1]))
    if db:
        for name, count in ours_type_problems(db):
            print("  ours: %d rows with %s" % (count, name))
    if not diff:
        print("  identical (as multisets of normalised rows)")
        return 0
    # Second pass: fetch a few differing rows and pair them by key.
    ex_a, ex_b = {}, {}
    for source, wanted, into in ((a_rows(), only_a, ex_a), (b_rows(), only_b, ex_b)):
        for row in source:
            n = norm_row(row)
            if digest(n) in wanted:
                into.setdefault(n[:N_DIMS], []).append(n)
    shown = 0
    for key in sorted(set(ex_a) & set(ex_b)):
        if shown >= show:
            break
        o, d = ex_a[key][0], ex_b[key][0]
        cols = ["%s %s=%s %s=%s" % (COLUMNS[i], a_name, o[i], b_name.lower(), d[i])
                for i in range(N_DIMS, len(COLUMNS)) if o[i] != d[i]]
        print("  %s: %s" % ("|".join(key), "; ".join(cols)))
        shown += 1
    for label, ex, other in (("only in " + a_name, ex_a, ex_b), ("only in " + b_name, ex_b, ex_a)):
        keys = [k for k in sorted(ex) if k not in other][:show]
        for k in keys:
            print("  %s: %s" % (label, ",".join(ex[k][0])))
    return diff


# ---------------------------------------------------------------------------------------
# Reporting

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rate(x):
    return "{:,.0f}".format(x)


def summarize(label, reps):
    """reps: list of lists of Stage. Returns dict of medians / maxima."""
    per_stage = collections.OrderedDict()
    for rep in reps:
        for s in rep:
            per_stage.setdefault(s.name, []).append(s)
    totals_wall = [sum(s.wall for s in rep) for rep in reps]
    totals_cpu = [sum(s.cpu for s in rep) for rep in reps]
    peak = max(s.rss for rep in reps for s in rep)
    return dict(label=label, stages=per_stage, wall=med(totals_wall), cpu=med(totals_cpu), rss=peak,
                walls=totals_wall)


def print_results(lines, raw, results):
    print("\n%-28s %9s %9s %12s %9s %10s" % ("system / stage", "wall s", "cpu s", "events/s", "MB/s", "peak MB"))
    for r in results:
        if len(r["stages"]) > 1:
            for name, ss in r["stages"].items():
                w = med([s.wall for s in ss])
                print("  %-26s %9.2f %9.2f %12s %9s %10.0f" % (
                    name, w, med([s.cpu for s in ss]), "", "", max(s.rss for s in ss) / 2**20))
        print("%-28s %9.2f %9.2f %12s %9.1f %10.0f" % (
            r["label"], r["wall"], r["cpu"], fmt_rate(lines / r["wall"]), raw / 1e6 / r["wall"], r["rss"] / 2**20))
    o = next((r for r in results if r["key"] == "ours"), None)
    peers = [r for r in results if r["key"] != "ours"]
    if o and peers:
        for d in peers:
            print("%-28s %9.2f %9.2f %12s %9s %10.2f" % (
                "ratio %s/ours" % PEER_NAME[d["key"]], d["wall"] / o["wall"], d["cpu"] / o["cpu"], "", "",
                d["rss"] / o["rss"]))
        ia = [sum(s.wall for s in rep if s.name in ("ingest", "aggregate")) for rep in o["reps"]]
        if len(o["stages"]) == 3:
            print("(ours without the report stage: %.2f s wall; %s)" % (med(ia), "; ".join(
                "%s/ours %.2f" % (PEER_NAME[d["key"]], d["wall"] / med(ia)) for d in peers)))
    print("wall = median over repetitions of the summed stages; cpu = user+sys; peak = max RSS over stages\n"
          "and repetitions; events = input lines; MB = uncompressed NDJSON; ratio > 1: ours is faster/smaller")


def print_floor(floor):
    print("\nread floor: %s -dc FILE | wc -l, %d files at a time: %.2f s median, %.2f s CPU, peak %.0f MB"
          % (floor["tool"], floor["workers"], floor["wall"], floor["cpu"], floor["rss"] / 2**20))
    if floor["tool"] != "igzip":
        print("  (igzip is not installed, so this is gzip -dc: slower than ISA-L's floor, which makes\n"
              "  ingest / read floor look better than it is; apt-get install isal)")


def judge_targets(m):
    """The targets, from medians of one run. m: lines, creators (None if unknown), ingest, aggregate,
    report, three (our stages' walls; None if not run), peak, db_bytes, floor (read floor wall),
    report_floor (wall of creating the report's files), peers {key: wall}, want_peers (bool).
    Returns rows: dict(target, ours, other, ratio, goal, passed (None: not judged), unit, why)."""
    rows = []

    def row(target, ours, other, ratio, goal, passed, unit="s", why=None):
        rows.append(dict(target=target, ours=ours, other=other, ratio=ratio, goal=goal, passed=passed,
                         unit=unit, why=why))
    ing, fl = m.get("ingest"), m.get("floor")
    if ing is not None and fl:
        row("ingest / read floor", ing, fl, ing / fl, "<= %gx" % TARGET_INGEST_FLOOR, ing / fl <= TARGET_INGEST_FLOOR)
    if m.get("want_peers"):
        for k in PEERS:
            goal = TARGET_VS_PEER[k]
            name = "three stages vs %s (%s / ours)" % (PEER_NAME[k], PEER_NAME[k])
            other, three = m["peers"].get(k), m.get("three")
            if other is None or three is None:
                row(name, three, other, None, ">= %gx" % goal, None,
                    why="peer not run" if other is None else "needs all three stages (not with --no-report)")
            else:
                row(name, three, other, other / three, ">= %gx" % goal, other / three >= goal)
    agg = m.get("aggregate")
    if agg is not None:
        name = "aggregate (target for the %s-creator set)" % fmt_rate(TARGET_AGGREGATE_CREATORS)
        if m.get("creators") == TARGET_AGGREGATE_CREATORS:
            row(name, agg, None, None, "<= %g s" % TARGET_AGGREGATE_S, agg <= TARGET_AGGREGATE_S)
        else:
            row(name, agg, None, None, "<= %g s" % TARGET_AGGREGATE_S, None,
                why="this set has %s creators" % (fmt_rate(m["creators"]) if m.get("creators") else "unknown"))
    if m.get("peak") is not None:
        large = m["lines"] >= LARGE_EVENTS
        cap = TARGET_PEAK_LARGE if large else TARGET_PEAK
        row("peak RSS of any stage (%s)" % (">= 50M events" if large else "< 50M events"),
            m["peak"] / 2**20, None, None, "<= %d MiB" % (cap // 2**20), m["peak"] <= cap, unit="MiB")
    if m.get("db_bytes") is not None:
        per = m["db_bytes"] / m["lines"]
        row("database after ingest, bytes per event", per, None, None, "<= %g" % TARGET_DB_BYTES_PER_EVENT,
            per <= TARGET_DB_BYTES_PER_EVENT, unit="B")
    rep_, rfl = m.get("report"), m.get("report_floor")
    if rep_ is not None and rfl:
        row("report / file-creation floor", rep_, rfl, rep_ / rfl, "<= %gx" % TARGET_REPORT_FLOOR,
            rep_ / rfl <= TARGET_REPORT_FLOOR)
    return rows


def print_target_rows(rows, title="targets (medians)"):
    def val(x, unit):
        if x is None:
            return "-"
        return "%.2f s" % x if unit == "s" else ("%.0f MiB" % x if unit == "MiB" else "%.1f %s" % (x, unit))
    print("\n%-48s %10s %10s %8s %10s" % (title, "ours", "other", "ratio", "target"))
    for r in rows:
        ratio = "%.2fx" % r["ratio"] if r["ratio"] is not None else "-"
        verdict = {True: "PASS", False: "MISS", None: "not judged"}[r["passed"]]
        if r["why"]:
            verdict += " (%s)" % r["why"]
        print("  %-46s %10s %10s %8s %10s   %s" % (r["target"], val(r["ours"], r["unit"]), val(r["other"], r["unit"]),
                                                 ratio, r["goal"], verdict))


def print_targets(a, results, floor, report_floor, db_sizes, lines, creators):
    """The read floor and the targets, on medians of this run; PASS/MISS per line. Returns them for --json."""
    print_floor(floor)
    o = next((r for r in results if r["key"] == "ours"), None)
    if o is None:
        print("targets: not judged (ours was not run)")
        return []
    stage = lambda n: med([s.wall for s in o["stages"][n]]) if n in o["stages"] else None
    m = dict(lines=lines, creators=creators, ingest=stage("ingest"), aggregate=stage("aggregate"),
             report=stage("report"), three=o["wall"] if len(o["stages"]) == 3 else None, peak=o["rss"],
             db_bytes=med(db_sizes) if db_sizes else None, floor=floor["wall"],
             report_floor=report_floor["wall"] if report_floor else None,
             peers=dict((r["key"], r["wall"]) for r in results if r["key"] != "ours"), want_peers=True)
    if report_floor:
        print("report file-creation floor: a Python loop creating the report's %s files (%.1f MB) in a fresh "
              "folder: %.2f s median" % (fmt_rate(report_floor["files"]), report_floor["bytes"] / 1e6,
                                         report_floor["wall"]))
    rows = judge_targets(m)
    print_target_rows(rows)
    return rows


def run_compare_set(a, runner, data_dir, tag, repeat):
    """Run the systems `repeat` times on data_dir; return (results, differing rows or None)."""
    n_files, lines, raw, gz = measure_input(data_dir)
    print("\ndata: %s: %d files, %s lines, %.1f MB NDJSON, %.1f MB gzip"
          % (data_dir, n_files, fmt_rate(lines), raw / 1e6, gz / 1e6), flush=True)
    reps = dict((k, []) for k in a.systems)
    floor_reps, report_floors = [], []
    work = a.work
    db = os.path.join(work, "%s.sqlite" % tag)
    # One report folder per repetition, removed only at the end: deleting 50k statement files
    # keeps the file system busy for seconds afterwards, which would be charged to the next
    # report (a report into an existing folder is measured by --nightly's users, not here).
    out_dirs = [os.path.join(work, "%s-report-rep%d" % (tag, i + 1)) for i in range(repeat)]
    for d in out_dirs:
        if os.path.isdir(d):
            shutil.rmtree(d)
    peer_csv = dict((k, os.path.join(work, "%s-%s.csv" % (tag, k))) for k in PEERS)
    for i in range(repeat):
        rtag = "%s-rep%d" % (tag, i + 1)
        if "ours" in a.systems:
            stages = runner.ours([data_dir], db, out_dirs[i], rtag,
                                 stages=("ingest", "aggregate") if a.no_report else ("ingest", "aggregate", "report"))
            reps["ours"].append(stages)
            extra = ""
            if not a.no_report:   # right after the report, so that both meet the same file system
                rf = file_creation_floor(out_dirs[i], out_dirs[i] + "-floor")
                report_floors.append(rf)
                extra = "; report's files by a plain loop %.2fs" % rf.wall
            print("  rep %d ours:   %s%s" % (i + 1, ", ".join("%s %.2fs" % (s.name, s.wall) for s in stages), extra),
                  flush=True)
        for k in PEERS:
            if k in a.systems:
                stages = runner.peer(k, data_dir, peer_csv[k], rtag)
                reps[k].append(stages)
                print("  rep %d %-7s %.2fs" % (i + 1, k + ":", stages[0].wall), flush=True)
        stages, counted = runner.read_floor(data_files(data_dir), rtag)
        floor_reps.append(stages)
        print("  rep %d floor:  %.2fs (%s -dc | wc -l, %d at a time)"
              % (i + 1, stages[0].wall, runner.floor_tool, runner.floor_workers), flush=True)
        if counted != lines:
            print("  warning: the read floor counted %d lines, expected %d (log: %s)"
                  % (counted, lines, os.path.join(a.work, "logs", "%s-read-floor.log" % rtag)), file=sys.stderr)
    results = []
    for k in a.systems:
        r = summarize("ClickPipeline (%d stages)" % len(reps[k][0]) if k == "ours" else PEER_LABEL[k], reps[k])
        r["key"], r["reps"] = k, reps[k]
        results.append(r)
    print_results(lines, raw, results)
    floor = summarize("read floor", floor_reps)
    floor.update(tool=runner.floor_tool, workers=runner.floor_workers)
    rfloor = None
    if report_floors:
        rfloor = dict(wall=med([s.wall for s in report_floors]), walls=[s.wall for s in report_floors],
                      cpu=med([s.cpu for s in report_floors]), files=report_floors[0].files,
                      bytes=report_floors[0].bytes)
    db_sizes = [s.db_bytes for rep in reps.get("ours", []) for s in rep if s.name == "ingest"]
    targets = print_targets(a, results, floor, rfloor, db_sizes, lines, generator_meta(data_dir).get("creators"))
    # Each peer against ours; without ours, the two peers against each other.
    diff = None
    ran_peers = [k for k in PEERS if k in a.systems]
    if "ours" in a.systems:
        pairs = [("ours", k) for k in ran_peers]
    else:
        pairs = [tuple(ran_peers)] if len(ran_peers) == 2 else []

    def rows_of(k):
        if k == "ours":
            return lambda: ours_rows(db)
        return lambda: peer_rows(peer_csv[k], k)
    for x, y in pairs:
        d = compare(PEER_NAME[x], rows_of(x), PEER_NAME[y], rows_of(y), a.show, db if x == "ours" else None)
        diff = (diff or 0) + d
    if not pairs:
        for k in ran_peers:
            rows = sum(1 for _ in peer_rows(peer_csv[k], k))
            print("\n%s wrote %d daily_metrics rows to %s" % (PEER_NAME[k], rows, peer_csv[k]))
    for d in out_dirs:
        for x in (d, d + "-floor"):
            if os.path.isdir(x):
                shutil.rmtree(x)
    return dict(data=data_dir, lines=lines, bytes=raw, gzip_bytes=gz, results=results, diff=diff,
                report_floor=rfloor,
                database_after_ingest=dict(sizes=db_sizes, median=med(db_sizes) if db_sizes else None,
                                           bytes_per_event=med(db_sizes) / lines if db_sizes else None),
                read_floor=dict(tool=floor["tool"], workers=floor["workers"], wall_median=floor["wall"],
                                walls=floor["walls"], cpu_median=floor["cpu"], peak_rss=floor["rss"]),
                targets=targets)


def as_json(res):
    out = dict((k, v) for k, v in res.items() if k != "results")
    out["systems"] = []
    for r in res["results"]:
        out["systems"].append(dict(
            system=r.get("key"), label=r["label"], wall_median=r["wall"], cpu_median=r["cpu"], peak_rss=r["rss"], walls=r["walls"],
            stages=dict((n, dict(walls=[s.wall for s in ss], cpus=[s.cpu for s in ss], rss=[s.rss for s in ss]))
                        for n, ss in r["stages"].items())))
    return out


# ---------------------------------------------------------------------------------------
# Adversarial shapes (--shapes)

DAY_MS, HOUR_MS = 86_400_000, 3_600_000
SHAPE_VERSION = 1   # bump when what a shape writes changes: cached inputs are then rewritten
SHAPE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148")
SHAPES = collections.OrderedDict([
    ("order-retries", "N ordered conversions of one (platform, order_id), same payload, fresh event ids "
                      "(a postback stuck retrying)"),
    ("refunds-one-order", "one order, then N refunds of it over the day"),
    ("late-clicks", "run 1: N conversions naming clicks by click_id only; run 2: those N clicks "
                    "(the figure is run 2's ingest + aggregate)"),
    ("one-viewer", "one viewer, N clicks on one product over a day, and N/1000 orders that find "
                   "them by the viewer fallback"),
    ("distinct-creators", "N creators in one day, one view or click each (3 views : 1 click)"),
    ("distinct-viewers", "N viewers of one product in one day, one view or click each (3 : 1)"),
])
SHAPE_RUNS = {"late-clicks": 2}
SHAPE_TIME_GROWTH = 1.2      # pass: time ratio <= 1.2 x N ratio between successive N
SHAPE_RSS_FACTOR, SHAPE_RSS_SLACK = 2.0, 64 * 2**20   # pass: peak <= 2 x the previous N's peak + 64 MiB


def rand_uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])


_EPOCH = datetime.date(1970, 1, 1)
_DAY_TEXT = {}


def ts_text(ms):
    """RFC 3339 UTC with milliseconds, as generate.py writes it."""
    d, r = divmod(ms, DAY_MS)
    day = _DAY_TEXT.get(d)
    if day is None:
        day = _DAY_TEXT[d] = (_EPOCH + datetime.timedelta(days=d)).isoformat()
    sec, milli = divmod(r, 1000)
    return "%sT%02d:%02d:%02d.%03dZ" % (day, sec // 3600, sec // 60 % 60, sec % 60, milli)


def shape_product(k):
    return "B0SHAPE%03d" % (k % 1000)


def ev_traffic(kind, eid, ms, creator, viewer, product):
    """A view or click from a bio link, human user agent, Amazon product."""
    return ('{"type":"%s","event_id":"%s","ts":"%s","creator_id":"%s","placement":"bio","viewer_id":"%s",'
            '"product_id":"%s","platform":"amazon","user_agent":"%s"}\n'
            % (kind, eid, ts_text(ms), creator, viewer, product, SHAPE_UA))


def ev_conversion(eid, ms, order, product, amount, status="ordered", click_id=None, viewer=None):
    parts = ['{"type":"conversion","event_id":"', eid, '","ts":"', ts_text(ms), '","order_id":"', order, '"']
    if click_id:
        parts += [',"click_id":"', click_id, '"']
    if viewer:
        parts += [',"viewer_id":"', viewer, '"']
    parts += [',"product_id":"', product, '","platform":"amazon"']
    if status == "ordered":
        parts.append(',"quantity":1')
    parts += [',"amount":"', amount, '","currency":"USD","status":"', status, '"}\n']
    return "".join(parts)


class ShapeFile:
    """One gzip NDJSON file, written line by line (gzip level 6, like generate.py)."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.f = open(path + ".tmp", "wb")
        self.comp = zlib.compressobj(6, zlib.DEFLATED, 31)
        self.buf, self.lines = [], 0

    def write(self, line):
        self.buf.append(line)
        self.lines += 1
        if len(self.buf) >= 8192:
            self.flush()

    def flush(self):
        self.f.write(self.comp.compress("".join(self.buf).encode()))
        self.buf = []

    def close(self):
        self.flush()
        self.f.write(self.comp.flush())
        self.f.close()
        os.replace(self.path + ".tmp", self.path)


def write_shape(shape, n, runs, start_ms, seed):
    """Write shape `shape` of size n into the run folders `runs` (one part-0000.ndjson.gz each)."""
    rng = random.Random("shape:%s:%d:%d" % (shape, n, seed))
    files = [ShapeFile(os.path.join(r, "part-0000.ndjson.gz")) for r in runs]
    out = files[0]
    uid = lambda: rand_uuid(rng)
    spread = lambda i, span, first=0: start_ms + first + i * span // n   # i-th of n over span ms
    creator, viewer, product = "cr0000001", "vw00000001", shape_product(0)
    if shape == "order-retries":
        click = uid()
        out.write(ev_traffic("click", click, start_ms + 1000, creator, viewer, product))
        ms = start_ms + 60_000   # same payload every time: only event_id changes
        for _ in range(n):
            out.write(ev_conversion(uid(), ms, "111-0000001-0000001", product, "19.99", click_id=click,
                                    viewer=viewer))
    elif shape == "refunds-one-order":
        click = uid()
        out.write(ev_traffic("click", click, start_ms + 1000, creator, viewer, product))
        out.write(ev_conversion(uid(), start_ms + 60_000, "111-0000001-0000002", product, "99999.99",
                                click_id=click, viewer=viewer))
        for i in range(n):
            out.write(ev_conversion(uid(), spread(i, DAY_MS - 3_600_000, 120_000), "111-0000001-0000002",
                                    product, "0.01", status="refunded"))
    elif shape == "late-clicks":
        clicks = files[1]
        for i in range(n):
            ms = spread(i, DAY_MS - 2 * HOUR_MS, HOUR_MS)
            click = uid()
            out.write(ev_conversion(uid(), ms, "LC-%09d" % i, shape_product(i), "19.99", click_id=click))
            clicks.write(ev_traffic("click", click, ms - HOUR_MS // 2, "cr%07d" % (i % 1000), "vw%08d" % i,
                                    shape_product(i)))
    elif shape == "one-viewer":
        k = max(1, n // 1000)
        conv = [start_ms + (j + 1) * DAY_MS // (k + 1) for j in range(k)]
        j = 0
        for i in range(n):
            ms = spread(i, DAY_MS)
            while j < k and conv[j] < ms:
                out.write(ev_conversion(uid(), conv[j], "OV-%07d" % j, product, "19.99", viewer=viewer))
                j += 1
            out.write(ev_traffic("click", uid(), ms, creator, viewer, product))
        for j in range(j, k):
            out.write(ev_conversion(uid(), conv[j], "OV-%07d" % j, product, "19.99", viewer=viewer))
    elif shape == "distinct-creators":
        for i in range(n):
            out.write(ev_traffic("click" if i % 4 == 3 else "view", uid(), spread(i, DAY_MS),
                                 "cs%08d" % i, "vw%08d" % i, shape_product(i)))
    elif shape == "distinct-viewers":
        for i in range(n):
            out.write(ev_traffic("click" if i % 4 == 3 else "view", uid(), spread(i, DAY_MS),
                                 creator, "vw%08d" % i, product))
    else:
        raise ValueError(shape)
    for f in files:
        f.close()
    return [f.lines for f in files]


def ensure_shape(a, shape, n):
    """The run folders of shape/n under --base, written unless an up-to-date copy is there."""
    top = os.path.join(a.base, "shapes", "%s-n%d" % (shape, n))
    runs = [os.path.join(top, "run%d" % (k + 1)) for k in range(SHAPE_RUNS.get(shape, 1))]
    want = dict(version=SHAPE_VERSION, shape=shape, n=n, start=a.start, seed=a.seed)
    meta_path = os.path.join(top, ".shape.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        if dict((k, meta.get(k)) for k in want) == want and all(
                os.path.exists(os.path.join(r, "part-0000.ndjson.gz")) for r in runs):
            return runs, meta["lines"]
    except (OSError, ValueError, KeyError):
        pass
    t0 = time.time()
    start_ms = (datetime.date.fromisoformat(a.start) - _EPOCH).days * DAY_MS
    lines = write_shape(shape, n, runs, start_ms, a.seed)
    with open(meta_path, "w") as f:
        json.dump(dict(want, lines=lines), f)
    if a.verbose:
        print("    wrote %s lines in %.1f s under %s" % ("+".join(fmt_rate(x) for x in lines), time.time() - t0, top))
    return runs, lines


def shape_check(shape, n, run):
    """(SQL over daily_metrics, the row it must return) after run `run` (1-based) of the shape."""
    attributed = "coalesce(sum(CASE WHEN creator_id <> '' THEN %s END), 0)"
    if shape == "order-retries":
        return "SELECT sum(orders), %s FROM daily_metrics" % (attributed % "orders"), (1, 1)
    if shape == "refunds-one-order":
        return ("SELECT sum(orders), sum(refunds), %s, sum(refunded_cents) FROM daily_metrics"
                % (attributed % "refunds"), (1, n, n, n))
    if shape == "late-clicks":
        return ("SELECT sum(orders), %s FROM daily_metrics" % (attributed % "orders"),
                (n, 0) if run == 1 else (n, n))
    if shape == "one-viewer":
        return ("SELECT sum(clicks), sum(unique_clickers), %s FROM daily_metrics" % (attributed % "orders"),
                (n, 1, max(1, n // 1000)))
    if shape == "distinct-creators":
        return "SELECT count(DISTINCT creator_id), sum(views) + sum(clicks) FROM daily_metrics", (n, n)
    if shape == "distinct-viewers":
        return "SELECT count(*), sum(unique_viewers) + sum(unique_clickers) FROM daily_metrics", (1, n)
    raise ValueError(shape)


def check_shape_db(db, shape, n, run):
    """'ok', or what differs: the expected daily_metrics figures and no rejected lines."""
    sql, want = shape_check(shape, n, run)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        got = tuple(con.execute(sql).fetchone())
        try:
            rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
        except sqlite3.Error:
            rejects = 0   # no such table in this build: nothing to check
    finally:
        con.close()
    problems = []
    if got != want:
        problems.append("run %d: %s gave %s, expected %s" % (run, sql, got, want))
    if rejects:
        problems.append("run %d: %d rejected lines" % (run, rejects))
    return "; ".join(problems) or "ok"


def run_shape_once(a, runner, shape, n, runs):
    """Fresh database, then ingest + aggregate per run. Returns ([[Stage] per run], check)."""
    db = os.path.join(a.work, "shape-%s.sqlite" % shape)
    per_run, checks = [], []
    for k, path in enumerate(runs):
        per_run.append(runner.ours([path], db, None, "shape-%s-n%d-run%d" % (shape, n, k + 1),
                                   stages=("ingest", "aggregate"), fresh=(k == 0)))
        checks.append(check_shape_db(db, shape, n, k + 1))
    remove_db(db)
    bad = [c for c in checks if c != "ok"]
    return per_run, "; ".join(bad) or "ok"


def measure_shape(a, runner, shape, n):
    runs, lines = ensure_shape(a, shape, n)
    out = dict(shape=shape, n=n, lines=lines, status="ok")
    reps, checks = [], []
    try:
        for _ in range(a.repeat):
            per_run, check = run_shape_once(a, runner, shape, n, runs)
            reps.append(per_run)
            if check not in checks:
                checks.append(check)
    except StageTimeout as e:
        out.update(status="timeout", error=str(e))
        return out
    except StageFailed as e:
        out.update(status="failed", error=str(e))
        return out
    figure = [r[-1] for r in reps]   # the last run: the one the shape is about
    out.update(
        check="; ".join(c for c in checks if c != "ok") or "ok",
        ingest=med([st[0].wall for st in figure]), aggregate=med([st[1].wall for st in figure]),
        time=med([st[0].wall + st[1].wall for st in figure]),
        rss=max(s.rss for st in figure for s in st),
        ingest_rss=max(st[0].rss for st in figure), aggregate_rss=max(st[1].rss for st in figure),
        walls=[st[0].wall + st[1].wall for st in figure])
    if len(runs) > 1:
        first = [r[0] for r in reps]
        out.update(run1_ingest=med([st[0].wall for st in first]), run1_aggregate=med([st[1].wall for st in first]),
                   run1_time=med([st[0].wall + st[1].wall for st in first]),
                   run1_rss=max(s.rss for st in first for s in st))
    return out


def judge_shape(rows):
    """(verdict, explanation) from the rows of one shape in increasing N."""
    for r in rows:
        if r["status"] == "timeout":
            return "MISS", "timed out at N=%s" % fmt_rate(r["n"])
        if r["status"] == "failed":
            return "FAILED", "a stage failed at N=%s" % fmt_rate(r["n"])
    ok = [r for r in rows if r["status"] == "ok"]
    if len(ok) < 2:
        return "-", "one N only: no growth to judge"
    worst, why = None, []
    for p, q in zip(ok, ok[1:]):
        rn, rt = q["n"] / p["n"], q["time"] / p["time"]
        rss_cap = SHAPE_RSS_FACTOR * p["rss"] + SHAPE_RSS_SLACK
        if rt > SHAPE_TIME_GROWTH * rn:
            why.append("time x%.2f for x%g N (> x%.2f)" % (rt, rn, SHAPE_TIME_GROWTH * rn))
        if q["rss"] > rss_cap:
            why.append("peak %.0f MB at N=%s > %g x %.0f MB + %d MB"
                       % (q["rss"] / 2**20, fmt_rate(q["n"]), SHAPE_RSS_FACTOR, p["rss"] / 2**20,
                          SHAPE_RSS_SLACK // 2**20))
        if worst is None or rt / rn > worst[0]:
            worst = (rt / rn, rt, rn)
    if why:
        return "MISS", "; ".join(why)
    return "PASS", ("time grew at most x%.2f for x%g N (limit %.1f x the N ratio); peak within %g x the "
                    "previous N's + %d MB" % (worst[1], worst[2], SHAPE_TIME_GROWTH, SHAPE_RSS_FACTOR,
                                              SHAPE_RSS_SLACK // 2**20))


def mode_shapes(a, runner):
    names = a.shape_names
    print("shapes: N = %s; %d repetition(s), median; timeout %s s per process; inputs under %s"
          % (", ".join(fmt_rate(n) for n in a.shapes_n), a.repeat, fmt_rate(TIMEOUT[0]),
             os.path.join(a.base, "shapes")), flush=True)
    print("time = ingest + aggregate into a fresh database (late-clicks: of run 2, after run 1's on the same DB);\n"
          "peak = max RSS of those two processes; growth exponent = log(time ratio) / log(N ratio), 1.0 is linear.\n"
          "A shape passes if, between successive N, time ratio <= %.1f x N ratio and peak <= %g x the previous\n"
          "peak + %d MiB (bounded memory); check = the expected daily_metrics figures and no rejected lines."
          % (SHAPE_TIME_GROWTH, SHAPE_RSS_FACTOR, SHAPE_RSS_SLACK // 2**20))
    results, verdicts = collections.OrderedDict(), collections.OrderedDict()
    for shape in names:
        print("\n%s: %s" % (shape, SHAPES[shape]), flush=True)
        rows = []
        stop = None
        for n in a.shapes_n:
            if stop:
                rows.append(dict(shape=shape, n=n, status="skipped", error=stop))
                print("  N=%-10s skipped (%s)" % (fmt_rate(n), stop), flush=True)
                continue
            r = measure_shape(a, runner, shape, n)
            rows.append(r)
            if r["status"] != "ok":
                print("  N=%-10s %s: %s" % (fmt_rate(n), r["status"], r["error"].splitlines()[0]), flush=True)
                stop = "%s at N=%s" % (r["status"], fmt_rate(n))
                continue
            extra = ""
            if "run1_time" in r:
                extra = "; run 1: ingest %.2f s, aggregate %.2f s, peak %.0f MB" % (
                    r["run1_ingest"], r["run1_aggregate"], r["run1_rss"] / 2**20)
            print("  N=%-10s ingest %.2f s, aggregate %.2f s, time %.2f s, peak %.0f MB, check %s%s"
                  % (fmt_rate(n), r["ingest"], r["aggregate"], r["time"], r["rss"] / 2**20, r["check"], extra),
                  flush=True)
        results[shape] = rows
        verdicts[shape] = judge_shape(rows)
    # Summary
    print("\n%-18s %10s %9s %9s %9s %8s %7s %7s %6s  %s"
          % ("shape", "N", "ingest s", "aggr. s", "time s", "peak MB", "N x", "time x", "exp.", "check"))
    failed = missed = bad_check = False
    for shape, rows in results.items():
        prev = None
        for r in rows:
            label = shape if r is rows[0] else ""
            if r["status"] != "ok":
                print("%-18s %10s %s" % (label, fmt_rate(r["n"]), r["status"]))
                prev = None
                continue
            growth = ("", "", "")
            if prev:
                rn, rt = r["n"] / prev["n"], r["time"] / prev["time"]
                growth = ("%.1f" % rn, "%.2f" % rt, "%.2f" % (math.log(rt) / math.log(rn)) if rt > 0 else "-")
            print("%-18s %10s %9.2f %9.2f %9.2f %8.0f %7s %7s %6s  %s"
                  % (label, fmt_rate(r["n"]), r["ingest"], r["aggregate"], r["time"], r["rss"] / 2**20,
                     growth[0], growth[1], growth[2], r["check"]))
            bad_check = bad_check or r["check"] != "ok"
            prev = r
        verdict, why = verdicts[shape]
        print("  -> %s: %s" % (verdict, why))
        failed = failed or verdict == "FAILED"
        missed = missed or verdict == "MISS"
    print("\nshapes: %s" % ", ".join("%s %s" % (s, v[0]) for s, v in verdicts.items()))
    status = 2 if failed else (1 if missed or bad_check else 0)
    return dict(shapes=dict(n=a.shapes_n, repeat=a.repeat, timeout=TIMEOUT[0], results=results,
                            verdicts=dict((s, dict(verdict=v[0], why=v[1])) for s, v in verdicts.items()))), status


# ---------------------------------------------------------------------------------------
# Modes

def world_suffix(a):
    """'' for the default world (so existing data sets keep their names), else -c<N>-p<M>."""
    return "" if a.default_world else "-c%d-p%d" % (a.creators, a.products)


def data_path(a, events, days, start, seed, files):
    """BASE/e<N>-f<M>-d<D>-<start>-s<seed>[-c<N>-p<M>][-real]"""
    return os.path.join(a.base, "e%d-f%d-d%d-%s-s%d%s%s" % (events, files, days, start, seed, world_suffix(a),
                                                            "-real" if a.real else ""))


def mode_compare(a, runner):
    path = a.data or data_path(a, a.events, a.days, a.start, a.seed, a.files)
    ensure_data(a, path, a.events, a.files, a.days, a.start, a.seed)
    res = run_compare_set(a, runner, path, "bench", a.repeat)
    return res, res["diff"]


STAGE_EVENTS = {"ingest": "input lines", "aggregate": "events read", "report": "rows read"}


def summarize_stage(name, runs, lines):
    """runs: [(Stage, stats or None, note)] over repetitions, for one of our stages. Medians of each
    step's CPU time, of the rest of the process's CPU time (wait4's user+sys - the steps), and the
    stage's totals."""
    stages = [r[0] for r in runs]
    stats = [r[1] for r in runs if r[1] is not None]
    notes = [r[2] for r in runs if r[2]]
    out = dict(stage=name, walls=[s.wall for s in stages], cpus=[s.cpu for s in stages],
               rss=[s.rss for s in stages], wall=med([s.wall for s in stages]),
               cpu=med([s.cpu for s in stages]), peak=max(s.rss for s in stages),
               note=notes[0] if notes else None, reported=stats)
    events = [x["events"] for x in stats if x.get("events") is not None]
    if events:
        out.update(events=int(med(events)), events_from="%s (as the stage reports)" % STAGE_EVENTS.get(name, "events"))
    elif name == "ingest":
        out.update(events=lines, events_from="input lines (counted by the bench)")
    else:
        out.update(events=None, events_from=None)
    names = []
    for x in stats:
        for step in x.get("steps") or []:
            if step["name"] not in names:
                names.append(step["name"])
    with_steps = [(st, x) for st, x, _ in runs if x is not None and x.get("steps")]
    steps = []
    for n in names:
        cpus = [sum(float(step["cpu_seconds"]) for step in x["steps"] if step["name"] == n) for _, x in with_steps]
        steps.append(dict(name=n, cpu_seconds=cpus, median=med(cpus)))
    out["steps"] = steps
    if with_steps:
        other = [st.cpu - sum(float(step["cpu_seconds"]) for step in x["steps"]) for st, x in with_steps]
        out.update(other_cpu=other, other_median=med(other))
    for k in ("wall_seconds", "cpu_seconds"):
        vals = [float(x[k]) for x in stats if x.get(k) is not None]
        out["reported_" + k] = med(vals) if vals else None
    ev = out["events"]
    for step in steps:
        step["ns_per_event"] = step["median"] / ev * 1e9 if ev else None
    if "other_median" in out:
        out["other_ns_per_event"] = out["other_median"] / ev * 1e9 if ev else None
    out["cpu_ns_per_event"] = out["cpu"] / ev * 1e9 if ev else None
    return out


def print_stage(st, floor=None, db=None):
    ev = st["events"]
    ns = lambda x: "%10.0f" % x if x is not None else "%10s" % "-"
    head = "%s: %s %s" % (st["stage"], fmt_rate(ev), st["events_from"]) if ev else "%s:" % st["stage"]
    if st["steps"]:
        print("\n%s\n  %-44s %9s %10s" % (head, "step", "cpu s", "ns/event"))
        for step in st["steps"]:
            print("  %-44s %9.3f %s" % (step["name"], step["median"], ns(step["ns_per_event"])))
        print("  %-44s %9.3f %s" % ("other (process CPU - steps)", st["other_median"], ns(st["other_ns_per_event"])))
    else:
        print("\n%s" % head)
        print("  %s reports no steps (%s)" % (st["stage"], st["note"] or "its --stats-json has no steps"))
    cores = st["cpu"] / st["wall"] if st["wall"] else 0
    line = "  stage: wall %.2f s, cpu %.2f s (%.2f cores%s), peak %.0f MB" % (
        st["wall"], st["cpu"], cores, ", %s ns/event" % fmt_rate(st["cpu_ns_per_event"]) if ev else "",
        st["peak"] / 2**20)
    if st.get("reported_wall_seconds") is not None:
        line += "; it reports wall %.2f s, cpu %.2f s" % (st["reported_wall_seconds"], st["reported_cpu_seconds"] or 0)
    print(line)
    if floor:
        print("  read floor in the same run (%s -dc | wc -l, %d files at a time): %.2f s; ingest / floor %.1fx"
              % (floor["tool"], floor["workers"], floor["wall"], st["wall"] / floor["wall"]))
    if db:
        print("  database after ingest: %.1f MB, %.1f bytes/event (%s input lines)"
              % (db["bytes"] / 1e6, db["bytes_per_event"], fmt_rate(db["lines"])))


def mode_stages(a, runner):
    """Ours only, stage by stage with --stats-json, into a fresh database per repetition."""
    path = a.data or data_path(a, a.events, a.days, a.start, a.seed, a.files)
    ensure_data(a, path, a.events, a.files, a.days, a.start, a.seed)
    n_files, lines, raw, gz = measure_input(path)
    print("\ndata: %s: %d files, %s lines, %.1f MB NDJSON, %.1f MB gzip"
          % (path, n_files, fmt_rate(lines), raw / 1e6, gz / 1e6), flush=True)
    names = ("ingest", "aggregate") if a.no_report else ("ingest", "aggregate", "report")
    db = os.path.join(a.work, "stages.sqlite")
    # One report folder for every repetition: each report replaces the previous one, as a
    # nightly report does (see Runner.ours).
    out_dirs = [os.path.join(a.work, "stages-report")] * a.repeat
    for d in out_dirs[:1]:
        if os.path.isdir(d):
            shutil.rmtree(d)
    runs = dict((n, []) for n in names)
    sizes, floor_reps, report_floors = [], [], []
    for i in range(a.repeat):
        tag = "stages-rep%d" % (i + 1)
        remove_db(db)
        done = []
        for n in names:
            args = {"ingest": ["--db", db, path], "aggregate": ["--db", db],
                    "report": ["--db", db, "--out", out_dirs[i]]}[n]
            if n == "report" and not os.path.isdir(os.path.join(out_dirs[i], ".creators.previous")):
                for _ in range(2):   # untimed: the timed report replaces an earlier one
                    run_stage("report", [runner.exe("report")] + args,
                              os.path.join(a.work, "logs", "%s-report-warmup.log" % tag))
            r = runner.ours_stage_stats(n, args, tag)
            runs[n].append(r)
            done.append("%s %.2fs%s" % (n, r[0].wall, "" if r[1] and r[1].get("steps") else " (no steps)"))
            if n == "ingest":
                sizes.append(db_bytes(db))
            if n == "report":   # right after it, so that both meet the same file system
                report_floors.append(file_creation_floor(out_dirs[i], out_dirs[i] + "-floor"))
                done.append("report's files by a plain loop %.2fs" % report_floors[-1].wall)
        floor, counted = runner.read_floor(data_files(path), tag)
        floor_reps.append(floor)
        print("  rep %d: %s; read floor %.2fs" % (i + 1, ", ".join(done), floor[0].wall), flush=True)
        if counted != lines:
            print("  warning: the read floor counted %d lines, expected %d" % (counted, lines), file=sys.stderr)
    remove_db(db)
    for d in out_dirs[:1]:
        for x in (d, d + "-floor"):
            if os.path.isdir(x):
                shutil.rmtree(x)
    floor = summarize("read floor", floor_reps)
    floor.update(tool=runner.floor_tool, workers=runner.floor_workers)
    size = med(sizes)
    dbinfo = dict(bytes=size, lines=lines, bytes_per_event=size / lines, sizes=sizes)
    print("\nstages of ours, %d repetition(s), medians; cpu = user+sys; ns/event = cpu / the stage's events; "
          "peak = max RSS" % a.repeat)
    stages = []
    for n in names:
        st = summarize_stage(n, runs[n], lines)
        stages.append(st)
        print_stage(st, floor if n == "ingest" else None, dbinfo if n == "ingest" else None)
    total_wall = med([sum(runs[n][i][0].wall for n in names) for i in range(a.repeat)])
    print("\nall stages: %.2f s wall (median of the per-repetition sums), %s events/s of input"
          % (total_wall, fmt_rate(lines / total_wall)))
    rfloor = None
    if report_floors:
        rfloor = dict(wall=med([x.wall for x in report_floors]), walls=[x.wall for x in report_floors],
                      cpu=med([x.cpu for x in report_floors]), files=report_floors[0].files,
                      bytes=report_floors[0].bytes)
        print("report file-creation floor: a Python loop creating the report's %s files (%.1f MB) in a fresh "
              "folder: %.2f s median" % (fmt_rate(rfloor["files"]), rfloor["bytes"] / 1e6, rfloor["wall"]))
    by = dict((st["stage"], st) for st in stages)
    targets = judge_targets(dict(
        lines=lines, creators=generator_meta(path).get("creators"), ingest=by["ingest"]["wall"],
        aggregate=by["aggregate"]["wall"], report=by["report"]["wall"] if "report" in by else None,
        peak=max(st["peak"] for st in stages), db_bytes=size, floor=floor["wall"],
        report_floor=rfloor["wall"] if rfloor else None, want_peers=False))
    print_target_rows(targets)
    print("  (the ratios to DuckDB and chDB need the side-by-side run)")
    return dict(stages=dict(data=path, lines=lines, bytes=raw, gzip_bytes=gz, repeat=a.repeat, stages=stages,
                            wall_median=total_wall, database_after_ingest=dbinfo, report_floor=rfloor,
                            targets=targets,
                            read_floor=dict(tool=floor["tool"], workers=floor["workers"], wall_median=floor["wall"],
                                            walls=floor["walls"], cpu_median=floor["cpu"], peak_rss=floor["rss"]))), 0


def mode_scaling(a, runner):
    out, worst = [], 0
    for mult in (1, 10):
        n = a.events * mult
        path = data_path(a, n, a.days, a.start, a.seed, a.files)
        ensure_data(a, path, n, a.files, a.days, a.start, a.seed)
        res = run_compare_set(a, runner, path, "scale-x%d" % mult, a.repeat)
        out.append(res)
        worst = max(worst, res["diff"] or 0)
    print("\nscaling: %s -> %s lines (x%.2f)" % (fmt_rate(out[0]["lines"]), fmt_rate(out[1]["lines"]),
                                                out[1]["lines"] / out[0]["lines"]))
    for i, r in enumerate(out[0]["results"]):
        r10 = out[1]["results"][i]
        print("  %-28s wall %.2f s -> %.2f s: x%.2f   cpu x%.2f   peak memory x%.2f"
              % (r["label"], r["wall"], r10["wall"], r10["wall"] / r["wall"], r10["cpu"] / r["cpu"],
                 r10["rss"] / r["rss"]))
    f0, f1 = out[0]["read_floor"], out[1]["read_floor"]
    print("  %-28s wall %.2f s -> %.2f s: x%.2f" % ("read floor (%s -dc)" % f0["tool"], f0["wall_median"],
                                                  f1["wall_median"], f1["wall_median"] / f0["wall_median"]))
    print("  (x10.0 is linear; more is super-linear)")
    return dict(scaling=[as_json(r) for r in out]), worst


def mode_nightly(a, runner):
    if "ours" not in a.systems:
        sys.exit("bench: --nightly measures ours only")
    start = datetime.date.fromisoformat(a.start)
    base = os.path.join(a.base, "nightly-e%d-f%d-s%d%s" % (a.events_per_day, a.files_per_day, a.seed,
                                                             world_suffix(a)))
    days = []
    for k in range(a.nightly_days + 1):
        day = (start + datetime.timedelta(days=k)).isoformat()
        path = os.path.join(base, "day-%02d-%s" % (k + 1, day))
        ensure_data(a, path, a.events_per_day, a.files_per_day, 1, day, a.seed * 1000 + k)
        days.append(path)
    history, today = days[:-1], days[-1]
    snap = os.path.join(a.work, "nightly-%d-days%s.sqlite" % (a.nightly_days, world_suffix(a)))
    t0 = time.time()
    if a.rebuild or not os.path.exists(snap):
        print("\nbuilding %d days, one ingest + aggregate run per day, into %s" % (len(history), snap), flush=True)
        building = snap + ".building"   # only a complete build becomes the snapshot
        remove_db(snap)
        remove_db(building)
        for k, path in enumerate(history):
            st = runner.ours([path], building, None, "nightly-build-%02d" % (k + 1), stages=("ingest", "aggregate"),
                             fresh=False)
            if k in (0, len(history) // 2, len(history) - 1) or a.verbose:
                print("  day %2d: ingest %.2fs, aggregate %.2fs" % (k + 1, st[0].wall, st[1].wall), flush=True)
        copy_db(building, snap)
        remove_db(building)
        print("  built in %.0f s" % (time.time() - t0))
    else:
        print("\nreusing %s (pass --rebuild to build it again)" % snap)
    n_files, lines, raw, gz = measure_input(today)
    print("day %d: %s (%s lines, %.1f MB NDJSON)" % (len(days), today, fmt_rate(lines), raw / 1e6))
    hist, empty = [], []
    db = os.path.join(a.work, "nightly-run.sqlite")
    for i in range(a.repeat):
        copy_db(snap, db)
        # Write the copy out before timing: otherwise the run's commit (fsync) also flushes the
        # hundreds of MB the copy just dirtied, which a real nightly run never pays.
        os.sync()
        st = runner.ours([today], db, None, "nightly-hist-rep%d" % (i + 1), stages=("ingest", "aggregate"), fresh=False)
        hist.append(st)
        st2 = runner.ours([today], db + ".empty", None, "nightly-empty-rep%d" % (i + 1), stages=("ingest", "aggregate"))
        empty.append(st2)
        print("  rep %d: on %d-day DB %.2fs, on empty DB %.2fs"
              % (i + 1, len(history), sum(s.wall for s in st), sum(s.wall for s in st2)), flush=True)
    h, e = summarize("day %d on %d-day DB" % (len(days), len(history)), hist), summarize("day %d on empty DB" % len(days), empty)
    print("\n%-28s %9s %9s %9s %9s %10s" % ("", "ingest s", "aggr. s", "wall s", "cpu s", "peak MB"))
    for r in (h, e):
        print("%-28s %9.2f %9.2f %9.2f %9.2f %10.0f" % (
            r["label"], med([s.wall for s in r["stages"]["ingest"]]), med([s.wall for s in r["stages"]["aggregate"]]),
            r["wall"], r["cpu"], r["rss"] / 2**20))
    print("ratio (%d-day DB / empty DB): wall x%.2f, cpu x%.2f; DB size %.0f MB"
          % (len(history), h["wall"] / e["wall"], h["cpu"] / e["cpu"], os.path.getsize(snap) / 1e6))
    targets = []
    for n in ("ingest", "aggregate"):
        hw, ew = med([s.wall for s in h["stages"][n]]), med([s.wall for s in e["stages"][n]])
        targets.append(dict(target="nightly %s (%d-day DB / empty DB)" % (n, len(history)), ours=hw, other=ew,
                            ratio=hw / ew, goal="<= %gx" % TARGET_NIGHTLY, passed=hw / ew <= TARGET_NIGHTLY,
                            unit="s", why=None))
    print_target_rows(targets, "targets (medians; other = on an empty DB)")
    # Sanity: the new day's rows should not depend on the history (per-day data sets are
    # independent, so only chance matches of a viewer across days can change attribution).
    day = os.path.basename(today)[-10:]
    q = "SELECT " + ",".join(COLUMNS) + " FROM daily_metrics WHERE day = ?"
    rows = []
    for path in (db, db + ".empty"):
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        rows.append(collections.Counter(norm_row(r) for r in con.execute(q, (day,))))
        con.close()
    d = sum(((rows[0] - rows[1]) + (rows[1] - rows[0])).values())
    print("rows of %s: %d on the %d-day DB, %d on the empty DB, %d differ"
          % (day, sum(rows[0].values()), len(history), sum(rows[1].values()), d))
    return dict(nightly=dict(history=as_json(dict(results=[h])), empty=as_json(dict(results=[e])),
                             targets=targets)), 0


def parse_count(text):
    """10000, 10k, 1M, 1e6 -> int."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1000, "m": 1000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def parse_args(argv):
    shapes_help = "\n".join("  %-18s %s" % (k, textwrap.fill(v, 70, subsequent_indent=" " * 21))
                            for k, v in SHAPES.items())
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1].replace("SHAPES_HELP", shapes_help))
    p.add_argument("--data", help="directory of *.ndjson.gz (generated there if missing)")
    p.add_argument("--events", type=int, help="lines to generate (default 5000000; 500000 with --scaling)")
    p.add_argument("--files", type=int, help="files to generate (default 16)")
    p.add_argument("--days", type=int, help="days to generate (default 7)")
    p.add_argument("--start", help="first day (default 2026-10-01)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--creators", type=int, default=DEFAULT_CREATORS,
                   help="creators in generated data (default %d); a set with other --creators or --products "
                        "gets its own directory, e.g. e5000000-f16-d7-2026-10-01-s1-c5000-p20000"
                        % DEFAULT_CREATORS)
    p.add_argument("--products", type=int, default=DEFAULT_PRODUCTS,
                   help="products in generated data (default %d)" % DEFAULT_PRODUCTS)
    p.add_argument("--real", action="store_true",
                   help="generate real-shaped data (generate.py --real: several id shapes, spaced JSON, copies "
                        "in later files), in its own directory ending in -real")
    p.add_argument("--repeat", type=int, help="repetitions per system (default 3; 1 with --shapes)")
    p.add_argument("--only", metavar="SYSTEMS",
                   help="comma-separated subset of ours,duckdb,chdb to run (default: all three); "
                        "e.g. --only chdb, --only ours,chdb")
    p.add_argument("--bin", default=DEFAULT_BIN, help="folder with ingest, aggregate, report (default .build/release)")
    p.add_argument("--duckdb-python", default=DEFAULT_DUCKDB_PY)
    p.add_argument("--duckdb-script", default=DEFAULT_DUCKDB_SCRIPT)
    p.add_argument("--chdb-python", default=DEFAULT_CHDB_PY,
                   help="python that can import chdb (default %s; the chDB peer is skipped with a "
                        "message if it cannot)" % DEFAULT_CHDB_PY)
    p.add_argument("--chdb-script", default=DEFAULT_CHDB_SCRIPT,
                   help="the chDB peer (default ../shared/peers/chdb_pipeline.py)")
    p.add_argument("--threads", type=int, help="threads for both peers (default: each engine's own, all cores)")
    p.add_argument("--base", default=DEFAULT_BASE, help="where generated data sets go (default /tmp/bench-data)")
    p.add_argument("--work", default=DEFAULT_WORK, help="databases, CSVs and logs (default /tmp/bench-work)")
    p.add_argument("--show", type=int, default=5, help="differing rows to show")
    p.add_argument("--json", help="also write the measurements to this JSON file")
    p.add_argument("--scaling", action="store_true", help="run N and 10N events and report the ratio")
    p.add_argument("--stages", action="store_true",
                   help="ours only: each stage with --stats-json, its steps' CPU time and ns/event, the rest of "
                        "its CPU time, wall/CPU/peak, the read floor and the database's bytes/event")
    p.add_argument("--nightly", action="store_true", help="time day 31 on a 30-day DB vs an empty DB")
    p.add_argument("--nightly-days", type=int, default=30)
    p.add_argument("--events-per-day", type=int, default=200_000)
    p.add_argument("--files-per-day", type=int, default=4)
    p.add_argument("--rebuild", action="store_true", help="--nightly: rebuild the 30-day DB")
    p.add_argument("--no-report", action="store_true", help="run ingest and aggregate only")
    p.add_argument("--timeout", type=float,
                   help="kill a process that runs longer than this many seconds (default: none; 600 with "
                        "--shapes, where it is reported as 'timeout' and the shape's larger N are skipped)")
    p.add_argument("--shapes", action="store_true",
                   help="time ingest + aggregate (ours only) on hand-made adversarial inputs of growing size N "
                        "and judge whether time and memory grow linearly (see below)")
    p.add_argument("--shapes-n", default="10000,100000,1000000", metavar="N,N,...",
                   help="--shapes: the sizes, increasing (default 10000,100000,1000000; 10k and 1M work too)")
    p.add_argument("--shape", metavar="NAMES", help="--shapes: comma-separated subset of the shapes (default all)")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    if a.scaling + a.nightly + a.shapes + a.stages > 1:
        p.error("--scaling, --nightly, --shapes and --stages are separate runs")
    if a.real and (a.nightly or a.shapes):
        # Counter and digit ids are unique within one generated set only: the nightly's 31 sets
        # would share conversion ids across days.
        p.error("--real applies to the side-by-side run and --scaling")
    a.explicit_shape = any(x is not None for x in (a.events, a.files, a.days, a.start))
    a.default_world = (a.creators, a.products) == (DEFAULT_CREATORS, DEFAULT_PRODUCTS)
    if a.events is None:
        a.events = 500_000 if a.scaling else 5_000_000
    a.files = a.files or 16
    a.days = a.days or 7
    a.start = a.start or "2026-10-01"
    if a.repeat is None:
        a.repeat = 1 if a.shapes else 3
    if a.repeat < 1:
        p.error("--repeat must be >= 1")
    if a.shapes and a.timeout is None:
        a.timeout = 600.0
    try:
        a.shapes_n = [parse_count(x) for x in a.shapes_n.split(",") if x.strip()]
    except ValueError:
        p.error("--shapes-n takes comma-separated counts, e.g. 10000,100000 or 10k,100k,1M")
    if not a.shapes_n or any(n < 1 for n in a.shapes_n) or a.shapes_n != sorted(set(a.shapes_n)):
        p.error("--shapes-n: give increasing counts >= 1")
    a.shape_names = [x.strip() for x in (a.shape or ",".join(SHAPES)).split(",") if x.strip()]
    if not a.shape_names or any(x not in SHAPES for x in a.shape_names):
        p.error("--shape takes a comma-separated subset of %s" % ",".join(SHAPES))
    wanted = [x.strip() for x in (a.only or ",".join(SYSTEMS)).split(",") if x.strip()]
    bad = [x for x in wanted if x not in SYSTEMS]
    if bad or not wanted:
        p.error("--only takes a comma-separated subset of %s (got %r)" % (",".join(SYSTEMS), a.only))
    a.systems = [x for x in SYSTEMS if x in wanted]
    return a


def main(argv=None):
    a = parse_args(argv)
    TIMEOUT[0] = a.timeout
    runner = Runner(a)
    if a.nightly or a.shapes or a.stages:
        a.systems = [x for x in a.systems if x == "ours"]
    if "ours" in a.systems:
        runner.check_ours()
    if "duckdb" in a.systems:
        runner.check_duckdb()
    if "chdb" in a.systems and not runner.check_chdb():
        a.systems.remove("chdb")
        if not a.systems:
            print("bench: nothing left to run", file=sys.stderr)
            return 2
    print("bench: %d CPUs, python %s, bin %s" % (os.cpu_count(), sys.version.split()[0], a.bin))
    try:
        if a.shapes:
            if "ours" not in a.systems:
                sys.exit("bench: --shapes measures ours only")
            res, status = mode_shapes(a, runner)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(res, f, indent=2, default=str)
            return status
        if a.stages:
            if "ours" not in a.systems:
                sys.exit("bench: --stages measures ours only")
            res, diff = mode_stages(a, runner)
        elif a.nightly:
            res, diff = mode_nightly(a, runner)
        elif a.scaling:
            res, diff = mode_scaling(a, runner)
        else:
            res, diff = mode_compare(a, runner)
            res = as_json(res)
    except StageFailed as e:
        print("\nbench: stage failed: %s" % e, file=sys.stderr)
        return 2
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2, default=str)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
