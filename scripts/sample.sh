#!/usr/bin/env bash
# Runs the whole pipeline (ingest -> aggregate -> report) on the bundled sample logs, after
# installing the system packages it needs if they are missing (as root, or with sudo), and
# says where the database and the reports are.
#
#   scripts/sample.sh [OUT_DIR]      # default: out/
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=packages.sh
. "$root/scripts/packages.sh"
ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_swift
out="${1:-$root/out}"
mkdir -p "$out"
status=0
"$root/scripts/nightly.sh" --db "$out/sample.sqlite" --out "$out/reports" \
  --config "$root/sample-data/clickpipeline.toml" "$root/sample-data/logs" || status=$?
cat <<DONE
database: $out/sample.sqlite (daily_metrics, orders, rejects, runs, files)
reports:  $out/reports/summary.md, $out/reports/creators/, creator_earnings.csv, payouts.csv, orders.csv
DONE
exit "$status"
