#!/usr/bin/env python3
"""Loads the Spark job's `daily_metrics` into a ClickPipeline SQLite database.

    python3 spark/load_daily_metrics.py OUT/daily_metrics clicks.sqlite

OUT/daily_metrics is the Parquet folder the job wrote (partitioned by day; a local path). The
database must exist with the project's schema (make one with `ingest --db DB EMPTYFILE`). Every
row of `daily_metrics` is replaced in one transaction, so that `report --db DB --out DIR` then
reports what Spark computed. The other tables (events, files, rejects, runs) are not touched:
see docs/SPARK.md for what works after loading.

Exit status: 0 loaded; 1 nothing was changed (bad arguments, no such table, unreadable Parquet).
"""
import os
import sqlite3
import sys

import pyarrow as pa
import pyarrow.dataset as ds

DIMENSIONS = ["day", "creator_id", "placement", "platform", "store", "product_id"]
METRICS = [
    "views", "unique_viewers", "bot_views", "clicks", "unique_clickers", "bot_clicks",
    "orders", "units", "revenue_cents", "commission_cents", "refunds", "refunded_cents",
    "reversed_commission_cents",
]
COLUMNS = DIMENSIONS + METRICS


def read_rows(folder):
    """The rows of the Parquet folder, with `day` read as text (not a date) from the folder names."""
    partitioning = ds.partitioning(pa.schema([("day", pa.string())]), flavor="hive")
    dataset = ds.dataset(folder, format="parquet", partitioning=partitioning,
                         exclude_invalid_files=True, ignore_prefixes=[".", "_"])
    table = dataset.to_table(columns=COLUMNS)
    for name in METRICS:
        if not pa.types.is_integer(table.schema.field(name).type):
            raise ValueError(f"column {name} is {table.schema.field(name).type}, not an integer")
    return [tuple(row[c] for c in COLUMNS) for row in table.to_pylist()]


def load(folder, database):
    if not os.path.exists(database):
        raise ValueError(f"database {database} does not exist; create it with `ingest --db {database} EMPTYFILE`")
    rows = read_rows(folder)
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("BEGIN IMMEDIATE")
        try:
            # The first change steps the write generation, as every stage's write transaction
            # does (SQLiteDatabase.beginWrite), so a journal left by a killed load is recognised
            # as this database's own (StaleJournal).
            (generation,) = connection.execute("PRAGMA user_version").fetchone()
            generation = generation + 1 if 1 <= generation < 2**31 - 1 else 1
            connection.execute(f"PRAGMA user_version = {generation}")
            connection.execute("DELETE FROM daily_metrics")
            # report then takes daily_metrics as complete: it was computed elsewhere, not by
            # aggregate from this database's (empty) staged events.
            connection.execute(
                "INSERT INTO meta(key, value) VALUES ('daily_metrics_loaded_from', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (os.path.abspath(folder),))
            placeholders = ",".join("?" * len(COLUMNS))
            connection.executemany(
                f"INSERT INTO daily_metrics({', '.join(COLUMNS)}) VALUES ({placeholders})", sorted(rows))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()
    return len(rows)


def main(argv):
    if len(argv) != 2:
        print("usage: load_daily_metrics.py PARQUET_DIR DB", file=sys.stderr)
        return 1
    try:
        count = load(argv[0], argv[1])
    except (OSError, ValueError, sqlite3.Error, pa.ArrowException) as error:
        print(f"load_daily_metrics: {error}; nothing was changed", file=sys.stderr)
        return 1
    print(f"load_daily_metrics: {count} rows loaded into {argv[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
