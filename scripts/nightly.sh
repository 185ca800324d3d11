#!/usr/bin/env bash
# The whole nightly job with one exit status: ingest, aggregate, report.
#
#   scripts/nightly.sh --db FILE --out DIR [--config FILE] [--wait SECONDS] [--quiet] PATH...
#
# Builds the release executables first if they are missing (or use CLICKPIPELINE_BIN=DIR).
# Exit status: 0 success; 2 finished but some input files could not be read (they are retried
# next run); 75 another run holds the database; 1 anything else (nothing of the failed stage
# was kept). Aggregate and report still run after ingest exits 2, so the reports cover every
# file that could be read. Quiet on a clean run unless standard error is a terminal.
set -uo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
# The value of option $1, which must be there and not be another option.
value() {
  if [ $# -lt 2 ] || [ -z "$2" ] || [ "${2#-}" != "$2" ]; then
    echo "nightly.sh: $1 needs a value (see --help)" >&2
    exit 1
  fi
}

db="" out="" config="" wait="" quiet=""
paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --db) value "$@"; db="$2"; shift 2 ;;
    --out) value "$@"; out="$2"; shift 2 ;;
    --config) value "$@"; config="$2"; shift 2 ;;
    --wait) value "$@"; wait="$2"; shift 2 ;;
    --quiet|-q) quiet="--quiet"; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; paths+=("$@"); break ;;
    -*) echo "nightly.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) paths+=("$1"); shift ;;
  esac
done
if [ -z "$db" ] || [ -z "$out" ] || [ ${#paths[@]} -eq 0 ]; then
  echo "nightly.sh: --db FILE, --out DIR and at least one log PATH are required (see --help)" >&2
  exit 1
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CLICKPIPELINE_BIN:-$root/.build/release}"
if [ ! -x "$bin/ingest" ] || [ ! -x "$bin/aggregate" ] || [ ! -x "$bin/report" ]; then
  [ -t 2 ] && echo "nightly.sh: building the release executables (a few minutes the first time)..." >&2
  (cd "$root" && swift build -c release --product ingest >&2 && swift build -c release --product aggregate >&2 \
    && swift build -c release --product report >&2) || { echo "nightly.sh: build failed" >&2; exit 1; }
  bin="$root/.build/release"
fi

mkdir -p "$(dirname "$db")" "$out"
common=(--db "$db")
[ -n "$config" ] && common+=(--config "$config")
[ -n "$wait" ] && common+=(--wait "$wait")
[ -n "$quiet" ] && common+=("$quiet")

"$bin/ingest" "${common[@]}" "${paths[@]}"
ingest=$?
if [ $ingest -ne 0 ] && [ $ingest -ne 2 ]; then exit $ingest; fi
"$bin/aggregate" "${common[@]}" || exit $?
"$bin/report" "${common[@]}" --out "$out" || exit $?
if [ -t 2 ] && [ -z "$quiet" ]; then
  echo "nightly.sh: database $db; reports $out/summary.md, $out/creators/, $out/creator_earnings.csv" >&2
fi
exit $ingest
