#!/usr/bin/env bash
# Runs the Spark job's equivalence test (spark/test_spark_job.py): builds the Swift executables
# (debug) if needed, installs PySpark, PyArrow and pytest with pip if they are missing, then
# compares Spark's daily_metrics, rejects and failed files with ingest + aggregate's.
# Needs Java 17+ (PySpark 4). Takes about 2 minutes on an idle 2-core machine, 4 when shared.
# Exits non-zero if any check fails; the last line says `N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import pyspark, pyarrow' 2>/dev/null; then
  python3 -m pip install --quiet pyspark pyarrow pytest
fi
command -v java >/dev/null || { echo "spark/run-tests.sh: Java 17 or later is needed for PySpark" >&2; exit 1; }
# spark-submit comes with the pip package; put its folder on PATH if pip's scripts are not.
if ! command -v spark-submit >/dev/null; then
  PATH="$(python3 -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "bin"))'):$PATH"
  export PATH
fi
[ -x .build/debug/ingest ] && [ -x .build/debug/aggregate ] && [ -x .build/debug/report ] || swift build
exec python3 spark/test_spark_job.py
