#!/usr/bin/env python3
"""ClickPipeline on Apache Spark: log files in, `daily_metrics` (Parquet) out.

    spark-submit --master "local[2]" spark/clickpipeline_job.py \
        --binary .build/release/ingest --config clickpipeline.toml --out /tmp/cp-out logs/

Per-line work (parsing, validation, local day, bot flag, exact cents) is the project's own
Swift code: each task runs `ingest --emit ndjson` on one input file on an executor. The
relational work (event and order deduplication, attribution, aggregation) runs in Spark
DataFrames, following CONTRACT.md sections 3-7 and docs/DESIGN.md the way `aggregate` does.

Output under --out:
  daily_metrics/   Parquet, partitioned by day, exactly the contract's columns
  rejects/         Parquet: file, line, reason, raw
  failed_files/    Parquet: file, error (files that could not be read whole)

The inputs given are recomputed whole (nothing is incremental); see docs/SPARK.md.
Exit status: 0 success, 2 finished but some input files could not be read, 1 bad arguments.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

from pyspark import SparkFiles
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

DIMENSIONS = ["day", "creator_id", "placement", "platform", "store", "product_id"]
METRICS = [
    "views", "unique_viewers", "bot_views", "clicks", "unique_clickers", "bot_clicks",
    "orders", "units", "revenue_cents", "commission_cents", "refunds", "refunded_cents",
    "reversed_commission_cents",
]
CONFIG_NAME = "clickpipeline-job.toml"

# One row per line `ingest --emit ndjson` writes, whatever its kind (event, reject, failed, file).
ROW_SCHEMA = T.StructType([
    T.StructField("kind", T.StringType(), False),
    T.StructField("file", T.StringType(), False),
    T.StructField("file_index", T.LongType(), False),
    T.StructField("line", T.LongType(), True),
    T.StructField("type", T.StringType(), True),
    T.StructField("event_id", T.StringType(), True),
    T.StructField("ts_ms", T.LongType(), True),
    T.StructField("day", T.StringType(), True),
    T.StructField("creator_id", T.StringType(), True),
    T.StructField("placement", T.StringType(), True),
    T.StructField("viewer_id", T.StringType(), True),
    T.StructField("product_id", T.StringType(), True),
    T.StructField("platform", T.StringType(), True),
    T.StructField("store", T.StringType(), True),
    T.StructField("is_bot", T.BooleanType(), True),
    T.StructField("order_id", T.StringType(), True),
    T.StructField("click_id", T.StringType(), True),
    T.StructField("quantity", T.LongType(), True),
    T.StructField("status", T.StringType(), True),
    T.StructField("revenue_cents", T.LongType(), True),
    T.StructField("commission_cents", T.LongType(), True),
    T.StructField("reason", T.StringType(), True),
    T.StructField("raw", T.StringType(), True),
    T.StructField("error", T.StringType(), True),
    T.StructField("content_hash", T.StringType(), True),
])
# What one JSON line holds: every field of ROW_SCHEMA but the file and its index, which the
# job knows (from standard input, the line says "-").
LINE_SCHEMA = T.StructType([f for f in ROW_SCHEMA.fields if f.name not in ("file", "file_index")])


class JobError(Exception):
    """A problem with the arguments or the configuration: exit 1 before any work."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="clickpipeline_job.py",
        description="ClickPipeline's daily_metrics on Spark, with the Swift parser on the executors.")
    parser.add_argument("inputs", nargs="+", metavar="PATH",
                        help="log files or directories (any Hadoop file-system URI: file:, hdfs://, s3a://)")
    parser.add_argument("--config", metavar="FILE", help="the pipeline's TOML configuration (a local file)")
    parser.add_argument("--binary", metavar="PATH", required=True,
                        help="the `ingest` executable built for the executors' Linux (shipped to them)")
    parser.add_argument("--out", metavar="DIR", required=True, help="output directory (any Hadoop URI); replaced")
    parser.add_argument("--read-through-spark", action="store_true",
                        help="read local files too as other file systems are read (binaryFiles + standard input); "
                             "to exercise that path without HDFS or S3")
    return parser.parse_args(argv)


def read_configuration(path):
    """The attribution windows (hours) and the configuration text to ship, with its catalog.

    The Swift side validates everything else (it stops with exit 1 on a bad file); the text
    shipped has `catalog` rewritten to the catalog's file name, because executors receive both
    files side by side (SparkFiles) whatever folders they came from.
    """
    windows = {"amazon": 24, "brand_store": 168}
    if path is None:
        return windows, None, None
    try:
        with open(path, "rb") as f:
            raw = f.read()
        document = tomllib.loads(raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise JobError(f"configuration error: {path}: {error}")
    attribution = document.get("attribution", {})
    for key, platform in (("amazon_window_hours", "amazon"), ("brand_store_window_hours", "brand_store")):
        if key in attribution:
            windows[platform] = int(attribution[key])
    text = raw.decode("utf-8-sig")
    catalog = document.get("catalog")
    if catalog:
        catalog = os.path.join(os.path.dirname(os.path.abspath(path)), catalog)
        name = os.path.basename(catalog)
        text, count = re.subn(r'(?m)^(\s*catalog\s*=\s*).*$', lambda m: m.group(1) + json.dumps(name), text, count=1)
        if count != 1:
            raise JobError(f"configuration error: {path}: write `catalog = \"...\"` on one line at the top level")
    return windows, text, catalog


def check_configuration(binary, config_path):
    """Lets `ingest` judge the configuration and catalog on the driver, so that a bad file stops
    the job with ingest's own message (exit 1) before any task starts, not as failing tasks.
    A binary that cannot run here (built for another platform) is left to the executors."""
    args = [binary, "--emit", "ndjson", "--quiet", "--config", config_path, "-"]
    try:
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError:
        return
    if result.returncode == 1:
        raise JobError(result.stderr.strip().removeprefix("ingest: error: "))


def list_input_files(spark, inputs):
    """Every input file, in ingest's order: byte order of the path, without repeats.

    Uses the Hadoop FileSystem API through the JVM, so any URI Spark can read works. A
    directory means every file below it; names starting with '.' are skipped. Local files are
    named by their plain path (as `ingest` names them), others by their URI.
    """
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    found = []

    def walk(fs, status):
        if status.isDirectory():
            for child in fs.listStatus(status.getPath()):
                if not child.getPath().getName().startswith("."):
                    walk(fs, child)
        elif status.isFile():
            found.append(status.getPath().toString())

    for given in inputs:
        path = jvm.org.apache.hadoop.fs.Path(given)
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            raise JobError(f"{given}: no such file or directory; check the path (nothing was computed)")
        before = len(found)
        walk(fs, fs.getFileStatus(path))
        if len(found) == before:
            print(f"clickpipeline: {given}: directory contains no input files", file=sys.stderr)
    files = sorted({plain_name(uri) for uri in found}, key=lambda s: s.encode("utf-8", "surrogateescape"))
    if not files:
        raise JobError(" ".join(inputs) + ": no input files found")
    return files


def plain_name(uri):
    if uri.startswith("file:"):
        return re.sub(r"^file:(//)?", "", uri)
    return uri


def uri(name):
    return "file://" + name if is_local(name) else name


def is_local(name):
    return "://" not in name


def emit_lines(binary, config, name, index, data=None):
    """Runs `ingest --emit ndjson` on one file (or on `data` through standard input) and yields
    (file, file_index, JSON line) tuples; the JVM decodes the JSON (`from_json`), which costs a
    fraction of decoding it in Python. Exit 0 and 2 are results; anything else fails the task
    (Spark retries it)."""
    args = [binary, "--emit", "ndjson", "--quiet"]
    if config:
        args += ["--config", config]
    args.append("-" if data is not None else name)
    process = subprocess.Popen(args, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if data is not None:
        out, err = process.communicate(data)
        lines = out.splitlines()
    else:
        lines = process.stdout
    for raw_line in lines:
        text = raw_line.decode("utf-8").rstrip("\n")
        if data is not None and text.startswith('{"kind":"failed"'):
            # Read from standard input, the error names the file "-": give it its name.
            record = json.loads(text)
            record["error"] = record["error"].replace("-: ", name + ": ", 1)
            text = json.dumps(record, ensure_ascii=False)
        yield (name, index, text)
    if data is None:
        err = process.stderr.read()
        process.wait()
    if process.returncode not in (0, 2):
        raise RuntimeError(f"ingest --emit ndjson {name} exited {process.returncode}: {err.decode(errors='replace')}")


def executable(name):
    path = SparkFiles.get(name)
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def parse_files(spark, files, binary_name, config_name, through_spark=False):
    """One task per local file; other file systems are read through Spark (binaryFiles)."""
    sc = spark.sparkContext
    indexed = list(enumerate(files))
    local = [(i, f) for i, f in indexed if is_local(f) and not through_spark]
    remote = {f: i for i, f in indexed if not is_local(f) or through_spark}

    def run_local(item):
        index, name = item
        config = SparkFiles.get(config_name) if config_name else None
        return emit_lines(executable(binary_name), config, name, index)

    def run_remote(item):
        location, data = item
        config = SparkFiles.get(config_name) if config_name else None
        name = plain_name(location)
        return emit_lines(executable(binary_name), config, name, remote[name], data=data)

    parts = []
    if local:
        parts.append(sc.parallelize(local, len(local)).flatMap(run_local))
    if remote:
        parts.append(sc.binaryFiles(",".join(uri(f) for f in remote), minPartitions=len(remote)).flatMap(run_remote))
    rdd = parts[0] if len(parts) == 1 else sc.union(parts)
    lines = spark.createDataFrame(rdd, "file string, file_index long, value string")
    decoded = lines.select("file", "file_index", F.from_json("value", LINE_SCHEMA).alias("r"))
    return decoded.select(*[F.col("file") if f.name == "file" else F.col("file_index") if f.name == "file_index"
                            else F.col("r." + f.name) for f in ROW_SCHEMA.fields])


def kept_rows(rows):
    """The rows of the files ingest would keep: not failed, and not a later copy of content an
    earlier file (in file order) already had, which ingest skips."""
    summaries = rows.where(F.col("kind") == "file").select("file_index", "content_hash")
    first_copy = Window.partitionBy("content_hash").orderBy("file_index")
    kept_files = (summaries.withColumn("copy", F.row_number().over(first_copy))
                  .where(F.col("copy") == 1).select("file_index"))
    failed = rows.where(F.col("kind") == "failed").select("file_index")
    return rows.join(F.broadcast(kept_files), "file_index").join(F.broadcast(failed), "file_index", "left_anti")


def daily_metrics(rows, windows):
    """CONTRACT §3-§7 on the kept rows: the `daily_metrics` DataFrame."""
    # CONTRACT §3: conversions are unique by event_id across everything, the earliest by ts kept
    # (same ts: the first in file order, then line); views and clicks, one family, are unique
    # by event_id within the UTC day of their ts (the first copy in file order, then line). A
    # view or click and a conversion that share an id are two events.
    is_conversion = F.col("type") == "conversion"
    family = F.when(is_conversion, F.lit(-1)).otherwise(F.floor(F.col("ts_ms") / 86_400_000))
    first_event = Window.partitionBy("event_id", "family").orderBy(
        F.when(is_conversion, F.col("ts_ms")).otherwise(F.lit(0)), "file_index", "line")
    events = (rows.where(F.col("kind") == "event")
              .withColumn("family", family)
              .withColumn("copy", F.row_number().over(first_event))
              .where(F.col("copy") == 1).drop("copy", "family", "kind", "reason", "raw", "error", "content_hash")
              .persist())

    traffic = events.where(F.col("type").isin("view", "click"))
    human = ~F.col("is_bot")
    traffic_rows = traffic.groupBy(*DIMENSIONS).agg(
        F.count(F.when(human & (F.col("type") == "view"), 1)).alias("views"),
        F.countDistinct(F.when(human & (F.col("type") == "view") & (F.col("viewer_id") != ""),
                               F.col("viewer_id"))).alias("unique_viewers"),
        F.count(F.when(F.col("is_bot") & (F.col("type") == "view"), 1)).alias("bot_views"),
        F.count(F.when(human & (F.col("type") == "click"), 1)).alias("clicks"),
        F.countDistinct(F.when(human & (F.col("type") == "click") & (F.col("viewer_id") != ""),
                               F.col("viewer_id"))).alias("unique_clickers"),
        F.count(F.when(F.col("is_bot") & (F.col("type") == "click"), 1)).alias("bot_clicks"),
    )

    conversions = events.where(F.col("type") == "conversion")
    # Ordered conversions are unique by (platform, order_id): earliest ts, ties smallest event_id.
    canonical_order = Window.partitionBy("platform", "order_id").orderBy("ts_ms", "event_id")
    orders = (conversions.where(F.col("status") == "ordered")
              .withColumn("copy", F.row_number().over(canonical_order))
              .where(F.col("copy") == 1).drop("copy"))

    clicks = events.where(F.col("type") == "click").select(
        F.col("event_id").alias("c_event_id"), F.col("ts_ms").alias("c_ts"),
        F.col("creator_id").alias("c_creator_id"), F.col("placement").alias("c_placement"),
        F.col("viewer_id").alias("c_viewer_id"), F.col("platform").alias("c_platform"),
        F.col("store").alias("c_store"), F.col("product_id").alias("c_product_id"),
        F.col("is_bot").alias("c_is_bot"))

    # 1. click_id naming an ingested click (a view's or conversion's id is not a click); an id
    #    re-sent on several days names the earliest of those clicks.
    earliest_click = Window.partitionBy("c_event_id").orderBy("c_ts")
    named_clicks = (clicks.withColumn("copy", F.row_number().over(earliest_click))
                    .where(F.col("copy") == 1).drop("copy"))
    by_click_id = (orders.select("event_id", "click_id").where(F.col("click_id") != "")
                   .join(named_clicks, F.col("click_id") == F.col("c_event_id"))
                   .select(F.col("event_id").alias("o_event_id"),
                           F.when(F.col("c_is_bot"), F.lit("")).otherwise(F.col("c_creator_id")).alias("id_creator"),
                           F.when(F.col("c_is_bot"), F.lit("")).otherwise(F.col("c_placement")).alias("id_placement")))

    # 2. The latest non-bot click of the same viewer, platform, store, product within the window.
    window_ms = (F.when(F.col("platform") == "amazon", F.lit(windows["amazon"] * 3_600_000))
                 .when(F.col("platform") == "brand_store", F.lit(windows["brand_store"] * 3_600_000)))
    candidates = (orders.where(F.col("viewer_id") != "")
                  .select("event_id", "ts_ms", "viewer_id", "platform", "store", "product_id",
                          window_ms.alias("window_ms"))
                  .join(clicks.where(~F.col("c_is_bot")),
                        (F.col("viewer_id") == F.col("c_viewer_id")) & (F.col("platform") == F.col("c_platform"))
                        & (F.col("store") == F.col("c_store")) & (F.col("product_id") == F.col("c_product_id"))
                        & (F.col("c_ts") <= F.col("ts_ms")) & (F.col("ts_ms") <= F.col("c_ts") + F.col("window_ms"))))
    latest = Window.partitionBy("event_id").orderBy(F.col("c_ts").desc(), F.col("c_event_id").desc())
    by_viewer = (candidates.withColumn("rank", F.row_number().over(latest)).where(F.col("rank") == 1)
                 .select(F.col("event_id").alias("v_event_id"), F.col("c_creator_id").alias("v_creator"),
                         F.col("c_placement").alias("v_placement")))

    # A click_id match wins even when it gives '' (a bot click); then the viewer's click; else ''.
    named = F.col("o_event_id").isNotNull()
    attributed = (orders
                  .join(by_click_id, F.col("event_id") == F.col("o_event_id"), "left")
                  .join(by_viewer, F.col("event_id") == F.col("v_event_id"), "left")
                  .withColumn("creator_id", F.when(named, F.col("id_creator"))
                              .otherwise(F.coalesce("v_creator", F.lit(""))))
                  .withColumn("placement", F.when(named, F.col("id_placement"))
                              .otherwise(F.coalesce("v_placement", F.lit("")))))

    # A conversion whose revenue does not fit in 64-bit cents is left out, as aggregate does.
    order_rows = (attributed.where(F.col("revenue_cents").isNotNull())
                  .groupBy(*DIMENSIONS).agg(
                      F.count(F.lit(1)).alias("orders"), F.sum("quantity").alias("units"),
                      F.sum("revenue_cents").alias("revenue_cents"),
                      F.sum("commission_cents").alias("commission_cents")))

    # Refunds take their order's attribution, keep their own product dimensions and day.
    order_attribution = attributed.select(
        F.col("platform").alias("a_platform"), F.col("order_id").alias("a_order_id"),
        F.col("creator_id").alias("a_creator"), F.col("placement").alias("a_placement"))
    refunds = (conversions.where((F.col("status") == "refunded") & F.col("revenue_cents").isNotNull())
               .drop("creator_id", "placement")
               .join(order_attribution, (F.col("platform") == F.col("a_platform"))
                     & (F.col("order_id") == F.col("a_order_id")), "left")
               .withColumn("creator_id", F.coalesce("a_creator", F.lit("")))
               .withColumn("placement", F.coalesce("a_placement", F.lit(""))))
    refund_rows = refunds.groupBy(*DIMENSIONS).agg(
        F.count(F.lit(1)).alias("refunds"), F.sum("revenue_cents").alias("refunded_cents"),
        F.sum("commission_cents").alias("reversed_commission_cents"))

    def full(frame):
        present = set(frame.columns)
        return frame.select(*DIMENSIONS, *[
            (F.col(m) if m in present else F.lit(0)).cast("long").alias(m) for m in METRICS])

    merged = (full(traffic_rows).unionByName(full(order_rows)).unionByName(full(refund_rows))
              .groupBy(*DIMENSIONS).agg(*[F.sum(m).cast("long").alias(m) for m in METRICS]))
    return merged.where(" OR ".join(f"{m} <> 0" for m in METRICS))


def main(argv):
    try:
        args = parse_arguments(argv)
        windows, config_text, catalog = read_configuration(args.config)
        if not os.access(args.binary, os.X_OK):
            raise JobError(f"--binary {args.binary}: not an executable file; build it with `swift build -c release --static-swift-stdlib`")
        if args.config:
            check_configuration(args.binary, args.config)
    except JobError as error:
        print(f"clickpipeline: {error}", file=sys.stderr)
        return 1
    spark = SparkSession.builder.appName("clickpipeline").getOrCreate()
    sc = spark.sparkContext
    if not sc.getConf().contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 is for big clusters; the data of a day's dumps is split finer
        # than that only when there are many cores to use it.
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, 2 * sc.defaultParallelism)))
    try:
        files = list_input_files(spark, args.inputs)
    except JobError as error:
        print(f"clickpipeline: {error}", file=sys.stderr)
        spark.stop()
        return 1
    binary_name = os.path.basename(args.binary)
    sc.addFile(os.path.abspath(args.binary))
    config_name = None
    staging = tempfile.mkdtemp(prefix="clickpipeline-job-")
    try:
        if config_text is not None:
            config_name = CONFIG_NAME
            with open(os.path.join(staging, CONFIG_NAME), "w", encoding="utf-8") as f:
                f.write(config_text)
            sc.addFile(os.path.join(staging, CONFIG_NAME))
            if catalog:
                sc.addFile(catalog)

        rows = parse_files(spark, files, binary_name, config_name, args.read_through_spark).persist()
        kept = kept_rows(rows).persist()
        metrics = daily_metrics(kept, windows)
        out = args.out.rstrip("/")
        (metrics.repartition("day").sortWithinPartitions(*DIMENSIONS)
         .write.mode("overwrite").partitionBy("day").parquet(out + "/daily_metrics"))
        (kept.where(F.col("kind") == "reject").select("file", "line", "reason", "raw")
         .orderBy("file", "line").coalesce(1).write.mode("overwrite").parquet(out + "/rejects"))
        failed = rows.where(F.col("kind") == "failed").select("file", "error").orderBy("file")
        failed.coalesce(1).write.mode("overwrite").parquet(out + "/failed_files")
        failures = failed.collect()
        for row in failures:
            print(f"clickpipeline: {row.error}", file=sys.stderr)
        rows.unpersist()
        return 2 if failures else 0
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
