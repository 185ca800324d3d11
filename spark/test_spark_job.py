#!/usr/bin/env python3
"""The Spark job against the single-machine pipeline, row for row.

    python3 spark/test_spark_job.py          # or: pytest spark/test_spark_job.py

Builds logs with the contract's edge cases, runs `ingest` + `aggregate` (.build/debug, or
$CLICKPIPELINE_BIN) into a temporary SQLite database, runs the Spark job with
`spark-submit --master local-cluster[2,1,1024]` (two executor processes), and checks that
`daily_metrics`, the rejects and the failed files are equal, for the default configuration and
for a custom one (Asia/Jakarta, catalog categories, store rates, longer windows; its files are
read the way HDFS and S3 files are, through binaryFiles and standard input). Then the loader
puts Spark's rows into a database and `report` runs on it. Prints `N passed, M failed` last.
"""
import atexit
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import load_daily_metrics  # noqa: E402

BIN = os.environ.get("CLICKPIPELINE_BIN", os.path.join(ROOT, ".build", "debug"))
MASTER = os.environ.get("CLICKPIPELINE_SPARK_MASTER", "local-cluster[2,1,1024]")
H = 3_600_000
T0 = 1793534400000  # 2026-11-01T12:00:00Z


def ev(**fields):
    return json.dumps(fields, separators=(",", ":"))


def write_logs(folder):
    """The contract's edge cases, spread over files so that order and file boundaries matter."""
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    ua, bot = "Mozilla/5.0", "Googlebot/2.1"
    a = [
        ev(type="view", event_id="v1", ts=T0, creator_id="c1", viewer_id="u1", product_id="B1",
           platform="amazon", user_agent=ua),
        ev(type="view", event_id="v2", ts=T0 + 1, creator_id="c1", viewer_id="u1", product_id="B1",
           platform="amazon", post_id="p1", user_agent=ua),
        ev(type="view", event_id="v3", ts=T0 + 2, creator_id="c1", viewer_id="u9", user_agent=bot),
        ev(type="view", event_id="v4", ts="2026-11-01T17:30:00Z", creator_id=7, viewer_id="u2"),  # Jakarta: 11-02
        ev(type="click", event_id="k1", ts=T0 + 10, creator_id="c1", viewer_id="u1", product_id="B1",
           platform="amazon", user_agent=ua),
        ev(type="click", event_id="k2", ts=T0 + 20, creator_id="c2", viewer_id="u2", product_id="B2",
           platform="amazon", user_agent="crawler-x"),
        ev(type="click", event_id="k3", ts=T0 + 30, creator_id="c3", viewer_id="u3", product_id="S1",
           platform="brand_store", store="lumi-skin", post_id="p3", user_agent=ua),
        ev(type="click", event_id="k3b", ts=T0 + 30, creator_id="c4", viewer_id="u3", product_id="S1",
           platform="brand_store", store="lumi-skin", user_agent=ua),  # same ts: greatest event_id wins
        # o1: by click_id; refunded in part later.
        ev(type="conversion", event_id="o1", ts=T0 + 5 * H, order_id="A1", product_id="B1", platform="amazon",
           amount="19.99", currency="EUR", click_id="k1", quantity=2),
        # o2: a bot click named by click_id: unattributed even though a viewer match exists.
        ev(type="conversion", event_id="o2", ts=T0 + H, order_id="A2", product_id="B2", platform="amazon",
           amount="5.00", click_id="k2", viewer_id="u2"),
        # o3: viewer fallback, brand store, 100 h later (inside 168 h).
        ev(type="conversion", event_id="o3", ts=T0 + 100 * H, order_id="B3", product_id="S1",
           platform="brand_store", store="lumi-skin", amount="120.50", viewer_id="u3"),
        # o4: click_id naming a view is not a click: the viewer fallback applies (k1).
        ev(type="conversion", event_id="o4", ts=T0 + 20 * H, order_id="A4", product_id="B1", platform="amazon",
           amount="7.77", click_id="v1", viewer_id="u1"),
        # o5: outside the 24 h Amazon window, inside a 48 h one.
        ev(type="conversion", event_id="o5", ts=T0 + 30 * H, order_id="A5", product_id="B1", platform="amazon",
           amount="3.33", currency="GBP", viewer_id="u1"),
        "{not json",
        ev(type="view", event_id="bad1", creator_id="c1"),  # missing_field:ts
        ev(type="conversion", event_id="bad2", ts=T0, order_id="X", product_id="B1", platform="amazon",
           amount="1", currency="XYZ"),  # bad_value:currency
        "",
    ]
    with open(os.path.join(folder, "a.ndjson"), "w") as f:
        f.write("\n".join(a) + "\n")
    # The same content under another name: ingest skips it, so must Spark (no rejects twice).
    shutil.copy(os.path.join(folder, "a.ndjson"), os.path.join(folder, "sub", "a-copy.ndjson"))
    # CSV: duplicates of a.ndjson's events (dropped), a retried order with two event ids.
    csv = [
        "type,event_id,ts,creator_id,viewer_id,product_id,platform,store,order_id,click_id,amount,currency,status,quantity,user_agent",
        f"view,v1,{T0},c1,u1,B1,amazon,,,,,,,,{ua}",
        f"click,k1,{T0 + 10},c1,u1,B1,amazon,,,,,,,,{ua}",
        f"conversion,o6b,{T0 + 2 * H},,u1,B1,amazon,,A6,k1,10.00,USD,,1,",
        f"conversion,o6a,{T0 + 2 * H},,u1,B1,amazon,,A6,k1,10.00,USD,,1,",  # same ts: smallest event_id kept
        f"conversion,o6c,{T0 + 3 * H},,u1,B1,amazon,,A6,k1,10.00,USD,,1,",  # later retry: dropped
        '"view","v5","2026-11-02T03:00:00+07:00","c""q",u5,,,,,,,,,,"a, b"',
        "view,v6,1,too,few",  # malformed (cell count)
        f"conversion,r9,{T0 + 6 * H},,,B9,amazon,,NOORDER,,4.00,USD,refunded,,",  # refund without an order
    ]
    with open(os.path.join(folder, "b.csv"), "w") as f:
        f.write("\r\n".join(csv) + "\r\n")
    # Multi-member gzip (cat a.gz b.gz): a refund of A1 and more traffic.
    part1 = gzip.compress(("\n".join([
        ev(type="conversion", event_id="r1", ts=T0 + 50 * H, order_id="A1", product_id="B1", platform="amazon",
           amount="10.00", currency="EUR", status="refunded"),
        ev(type="click", event_id="k7", ts=T0 + 40 * H, creator_id="c7", viewer_id="u7", product_id="B7",
           platform="amazon", user_agent=ua),
    ]) + "\n").encode(), mtime=0)
    part2 = gzip.compress(("\n".join([
        ev(type="conversion", event_id="o7", ts=T0 + 40 * H + 24 * H, order_id="A7", product_id="B7",
           platform="amazon", amount="100", viewer_id="u7"),  # exactly at the window's end: attributed
        ev(type="view", event_id="v7", ts=T0 + 40 * H, creator_id="c7", viewer_id="u7", user_agent="HeadlessChrome"),
        '{"type":"click","event_id":"k8"}',  # missing_field:ts
    ]) + "\n").encode(), mtime=0)
    with open(os.path.join(folder, "sub", "c.ndjson.gz"), "wb") as f:
        f.write(part1 + part2)
    # A corrupt gzip: it parses, but its CRC is wrong, so it contributes nothing.
    broken = bytearray(gzip.compress((ev(type="view", event_id="vx", ts=T0, creator_id="cx") + "\n").encode(), mtime=0))
    broken[-6] ^= 0xFF
    with open(os.path.join(folder, "sub", "d.ndjson.gz"), "wb") as f:
        f.write(bytes(broken))
    # Re-sent events (CONTRACT §3): a view or click again on another UTC day is a new event, on
    # the same day a duplicate; a conversion counts once whatever its ts, the earliest copy kept
    # (here the later copy comes first, and only the earlier one is in k1's 24 h window); a
    # click id re-sent on a later day names the earliest click; a view may share a
    # conversion's id.
    e = [
        ev(type="conversion", event_id="o8", ts=T0 + 30 * H, order_id="A8", product_id="B1", platform="amazon",
           amount="50.00", viewer_id="u1"),
        ev(type="conversion", event_id="o8", ts=T0 + 2 * H, order_id="A8", product_id="B1", platform="amazon",
           amount="50.00", viewer_id="u1"),
        ev(type="conversion", event_id="r1", ts=T0 + 80 * H, order_id="A1", product_id="B1", platform="amazon",
           amount="10.00", currency="EUR", status="refunded"),
        ev(type="view", event_id="v1", ts=T0 + 48 * H, creator_id="c1", viewer_id="u1", product_id="B1",
           platform="amazon", user_agent=ua),
        ev(type="view", event_id="v2", ts=T0 + 3 * H, creator_id="c1", viewer_id="u1", product_id="B1",
           platform="amazon", user_agent=ua),
        ev(type="click", event_id="k9", ts=T0 + 24 * H + 5, creator_id="c9", viewer_id="u9", product_id="B9",
           platform="amazon", user_agent=ua),
        ev(type="click", event_id="k9", ts=T0 + 72 * H, creator_id="c10", viewer_id="u9", product_id="B9",
           platform="amazon", user_agent=ua),
        ev(type="conversion", event_id="o9", ts=T0 + 96 * H, order_id="A9", product_id="B9", platform="amazon",
           amount="9.00", click_id="k9"),
        ev(type="view", event_id="o9", ts=T0 + 96 * H, creator_id="c11", viewer_id="u11"),
    ]
    with open(os.path.join(folder, "sub", "e.ndjson"), "w") as f:
        f.write("\n".join(e) + "\n")
    with open(os.path.join(folder, ".hidden.ndjson"), "w") as f:
        f.write(ev(type="view", event_id="hid", ts=T0, creator_id="h") + "\n")


def write_custom_config(folder):
    os.makedirs(os.path.join(folder, "conf"), exist_ok=True)
    with open(os.path.join(folder, "conf", "products.csv"), "w") as f:
        f.write("product_id,platform,store,title,category\nB1,amazon,,Serum,beauty\nB7,amazon,,Novel,books\n")
    path = os.path.join(folder, "conf", "pipeline.toml")
    with open(path, "w") as f:
        f.write('timezone = "Asia/Jakarta"\ncatalog = "products.csv"\n\n[attribution]\n'
                "amazon_window_hours = 48\nbrand_store_window_hours = 336\n\n"
                "[commission.amazon_categories]\nbeauty = 0.10\nbooks = 0.045\n\n"
                '[commission.brand_stores]\n"lumi-skin" = 0.15\n\n[fx_usd_per_unit]\nGBP = 1.2345\n')
    return path


def run(args, expect, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode not in expect:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result


def single_machine(logs, config, db):
    config_args = ["--config", config] if config else []
    run([os.path.join(BIN, "ingest"), "--quiet", "--db", db, *config_args, logs], expect={2})
    run([os.path.join(BIN, "aggregate"), "--quiet", "--db", db, *config_args], expect={0})
    connection = sqlite3.connect(db)
    metrics = connection.execute(
        f"SELECT {', '.join(load_daily_metrics.COLUMNS)} FROM daily_metrics ORDER BY 1, 2, 3, 4, 5, 6").fetchall()
    rejects = connection.execute(
        "SELECT path, line, reason FROM rejects ORDER BY path, line").fetchall()
    failed = connection.execute("SELECT path, error FROM files WHERE status = 'failed' ORDER BY path").fetchall()
    connection.close()
    return metrics, rejects, failed


def local_cluster_work_dir():
    """Where local-cluster's workers keep each application's files (a copy of --binary among
    them): $SPARK_HOME/work, which for a pip install is inside the pyspark package."""
    import pyspark
    home = os.environ.get("SPARK_HOME") or os.path.dirname(pyspark.__file__)
    return os.path.join(home, "work")


def on_spark(logs, config, out, extra):
    import pyarrow.parquet as pq
    config_args = ["--config", config] if config else []
    work = local_cluster_work_dir()
    before = set(os.listdir(work)) if os.path.isdir(work) else set()
    started = time.monotonic()
    try:
        submit(config_args, extra, out, logs)
    finally:
        if MASTER.startswith("local-cluster") and os.path.isdir(work):
            for name in set(os.listdir(work)) - before:
                shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    seconds = time.monotonic() - started
    metrics = sorted(load_daily_metrics.read_rows(os.path.join(out, "daily_metrics")))
    rejects = sorted((r["file"], r["line"], r["reason"]) for r in pq.read_table(os.path.join(out, "rejects")).to_pylist())
    failed = sorted((r["file"], r["error"]) for r in pq.read_table(os.path.join(out, "failed_files")).to_pylist())
    return metrics, rejects, failed, seconds


def submit(config_args, extra, out, logs):
    run(["spark-submit", "--master", MASTER, "--conf", "spark.ui.enabled=false",
         "--conf", "spark.log.level=WARN", "--conf", "spark.sql.shuffle.partitions=2",
         os.path.join(HERE, "clickpipeline_job.py"), "--binary", os.path.join(BIN, "ingest"),
         *config_args, *extra, "--out", out, logs], expect={2})


class Scenario:
    """One configuration: the logs, both pipelines' results (computed once, on first use)."""

    def __init__(self, name, custom):
        # The custom scenario also reads its files as HDFS or S3 files are read (binaryFiles,
        # bytes on standard input), so both ways into `ingest --emit` are compared.
        self.extra = ["--read-through-spark"] if custom else []
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"clickpipeline-spark-{name}-")
        self.logs = os.path.join(self.dir, "logs")
        write_logs(self.logs)
        self.config = write_custom_config(self.dir) if custom else None
        self._results = None

    @property
    def results(self):
        if self._results is None:
            swift = single_machine(self.logs, self.config, os.path.join(self.dir, "single.sqlite"))
            spark = on_spark(self.logs, self.config, os.path.join(self.dir, "spark-out"), self.extra)
            print(f"  [{self.name}] spark-submit took {spark[3]:.0f} s", file=sys.stderr)
            self._results = (swift, spark)
        return self._results


SCENARIOS = {"default": Scenario("default", custom=False), "custom": Scenario("custom", custom=True)}
# Removed at exit however the tests were run (this script or pytest).
atexit.register(lambda: [shutil.rmtree(s.dir, ignore_errors=True) for s in SCENARIOS.values()])


def check_metrics_equal(name):
    (metrics, _, _), (spark_metrics, _, _, _) = SCENARIOS[name].results
    missing = [r for r in metrics if r not in spark_metrics]
    extra = [r for r in spark_metrics if r not in metrics]
    assert metrics == spark_metrics, f"only single machine: {missing}\nonly Spark: {extra}"


# Rows worked out by hand from write_logs (key -> orders, units, revenue, commission, refunds,
# refunded, reversed), so that both pipelines being wrong the same way cannot pass.
EXPECTED = {
    "default": {
        # o1 (EUR 19.99 x 2 units -> 2159), o6a (A6's kept retry) and o8's earlier copy (5000)
        # through k1; 4 % Amazon.
        ("2026-11-01", "c1", "bio", "amazon", "", "B1"): (3, 4, 8159, 326, 0, 0, 0),
        # o2 names a bot click: unattributed. o5 is 30 h after k1: outside 24 h.
        ("2026-11-01", "", "", "amazon", "", "B2"): (1, 1, 500, 20, 0, 0, 0),
        ("2026-11-02", "", "", "amazon", "", "B1"): (1, 1, 423, 17, 0, 0, 0),
        # o4's click_id names a view: the viewer fallback finds k1.
        ("2026-11-02", "c1", "bio", "amazon", "", "B1"): (1, 1, 777, 31, 0, 0, 0),
        # r1 refunds part of A1 (EUR 10 -> 1080); r9 has no order.
        ("2026-11-03", "c1", "bio", "amazon", "", "B1"): (0, 0, 0, 0, 1, 1080, 43),
        ("2026-11-01", "", "", "amazon", "", "B9"): (0, 0, 0, 0, 1, 400, 16),
        # o7 exactly at k7 + 24 h: attributed.
        ("2026-11-04", "c7", "bio", "amazon", "", "B7"): (1, 1, 10000, 400, 0, 0, 0),
        # o3: k3 and k3b tie on ts; the greatest event id (k3b, creator c4, bio) wins.
        ("2026-11-05", "c4", "bio", "brand_store", "lumi-skin", "S1"): (1, 1, 12050, 1205, 0, 0, 0),
        # o9 names k9, sent on 11-02 (c9) and again on 11-04 (c10): the earliest.
        ("2026-11-05", "c9", "bio", "amazon", "", "B9"): (1, 1, 900, 36, 0, 0, 0),
    },
    "custom": {
        # Jakarta days; beauty 10 % for B1, books 4.5 % for B7, lumi-skin 15 %, GBP 1.2345.
        # o6a and o8's earlier copy (Jakarta 21:00).
        ("2026-11-01", "c1", "bio", "amazon", "", "B1"): (2, 2, 6000, 600, 0, 0, 0),
        ("2026-11-02", "c1", "bio", "amazon", "", "B1"): (2, 3, 2936, 294, 0, 0, 0),
        # o5 is inside the 48 h window now.
        ("2026-11-03", "c1", "bio", "amazon", "", "B1"): (1, 1, 411, 41, 1, 1080, 108),
        ("2026-11-04", "c7", "bio", "amazon", "", "B7"): (1, 1, 10000, 450, 0, 0, 0),
        ("2026-11-05", "c4", "bio", "brand_store", "lumi-skin", "S1"): (1, 1, 12050, 1808, 0, 0, 0),
    },
}


def check_expected_rows(name):
    (metrics, _, _), _ = SCENARIOS[name].results
    by_key = {r[:6]: r[12:] for r in metrics}
    for key, expected in EXPECTED[name].items():
        assert by_key.get(key) == expected, f"{key}: {by_key.get(key)} != {expected}"
    column = load_daily_metrics.COLUMNS.index
    totals = {m: sum(r[column(m)] for r in metrics) for m in ("orders", "refunds", "bot_views", "bot_clicks", "views")}
    # Nine orders (A6's retries and o8's copies count once), two refunds (r1's copy counts
    # nothing), bots v3 v7 k2, six non-bot views: v1 v2 v4 v5, v1 again two days later, and the
    # view that shares o9's id (the CSV's copy of v1, the same-day copy of v2 and the skipped
    # copy of a.ndjson count nothing).
    assert totals == {"orders": 9, "refunds": 2, "bot_views": 2, "bot_clicks": 1, "views": 6}, totals


def check_rejects_equal(name):
    (_, rejects, _), (_, spark_rejects, _, _) = SCENARIOS[name].results
    assert rejects == spark_rejects, f"single machine {rejects}\nSpark {spark_rejects}"
    assert len(rejects) == 5, rejects  # a.ndjson 3, b.csv 1, c.ndjson.gz 1; a-copy is skipped


def check_failed_equal(name):
    (_, _, failed), (_, _, spark_failed, _) = SCENARIOS[name].results
    assert failed == spark_failed, f"single machine {failed}\nSpark {spark_failed}"
    assert len(failed) == 1 and failed[0][0].endswith("/sub/d.ndjson.gz"), failed


def test_default_metrics_equal():
    check_metrics_equal("default")


def test_default_expected_rows():
    check_expected_rows("default")


def test_default_rejects_equal():
    check_rejects_equal("default")


def test_default_failed_files_equal():
    check_failed_equal("default")


def test_custom_metrics_equal():
    check_metrics_equal("custom")


def test_custom_expected_rows():
    check_expected_rows("custom")


def test_custom_rejects_equal():
    check_rejects_equal("custom")


def test_custom_failed_files_equal():
    check_failed_equal("custom")


def test_loader_then_report():
    scenario = SCENARIOS["custom"]
    (metrics, _, _), _ = scenario.results
    db = os.path.join(scenario.dir, "loaded.sqlite")
    empty = os.path.join(scenario.dir, "empty.ndjson")
    open(empty, "w").close()
    run([os.path.join(BIN, "ingest"), "--quiet", "--db", db, empty], expect={0})
    assert load_daily_metrics.main([os.path.join(scenario.dir, "spark-out", "daily_metrics"), db]) == 0
    connection = sqlite3.connect(db)
    loaded = connection.execute(
        f"SELECT {', '.join(load_daily_metrics.COLUMNS)} FROM daily_metrics ORDER BY 1, 2, 3, 4, 5, 6").fetchall()
    connection.close()
    assert loaded == metrics
    out = os.path.join(scenario.dir, "report")
    run([os.path.join(BIN, "report"), "--quiet", "--db", db, "--out", out, "--config", scenario.config], expect={0})
    assert os.listdir(out), "report wrote nothing"


def main():
    tests = [(name, f) for name, f in globals().items() if name.startswith("test_") and callable(f)]
    passed = failed = 0
    started = time.monotonic()
    for name, test in tests:
        try:
            test()
            passed += 1
            print(f"ok   {name}")
        except Exception as error:  # noqa: BLE001 - report every failure, go on
            failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {error}")
    print(f"({time.monotonic() - started:.0f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
