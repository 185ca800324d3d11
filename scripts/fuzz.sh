#!/usr/bin/env bash
# Builds and runs ClickPipeline's libFuzzer targets (the separate package in Fuzz/).
#
#   scripts/fuzz.sh parser 600          # FileParser (line reader, JSON/CSV scanners, validator), 10 min
#   scripts/fuzz.sh gzip 600            # FileByteStream (gzip reader; ISA-L vs zlib), 10 min
#   scripts/fuzz.sh scanners 600        # FastJSONScanner vs JSONLineScanner, line by line, 10 min
#   scripts/fuzz.sh parser 60 -jobs=2   # extra arguments go to libFuzzer
#   scripts/fuzz.sh build               # only build
#
# Built with -sanitize=fuzzer,address (set in Fuzz/Package.swift) in release mode (scratch path Fuzz/.build).
# The corpus grows in Fuzz/corpus/<target>/ (seeded from sample-data on first use; for
# scanners, the checked-in seeds in Fuzz/seeds/scanners/ are read as a second corpus folder);
# crashes, leaks and timeouts are written to Fuzz/artifacts/<target>/, and the log to
# Fuzz/artifacts/<target>/fuzz-<date>.log. Exit status: libFuzzer's (0: no finding).
# Reproduce a finding:  Fuzz/.build/release/FuzzParser Fuzz/artifacts/parser/crash-...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/Fuzz"
target="${1:-}"
seconds="${2:-600}"
shift $(( $# >= 2 ? 2 : $# )) || true

build() {
  (cd "$fuzz" && swift build -c release --sanitize=fuzzer --scratch-path "$fuzz/.build" >&2)
}

seed_parser() {
  local dir="$1"
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  local n=0
  # Every sample file, decompressed, cut into small files of a few lines each.
  while IFS= read -r -d '' file; do
    local text
    if [ "$(head -c 2 "$file" | od -An -tx1 | tr -d ' ')" = "1f8b" ]; then text="$(gzip -dc "$file")"; else text="$(cat "$file")"; fi
    local header=""
    case "$(printf '%s\n' "$text" | head -n 1)" in \{*) ;; *) header="$(printf '%s\n' "$text" | head -n 1)";; esac
    while IFS= read -r chunk; do
      n=$((n + 1))
      if [ -n "$header" ]; then printf '%s\n%s\n' "$header" "$chunk" > "$dir/seed-$n"; else printf '%s\n' "$chunk" > "$dir/seed-$n"; fi
    done < <(printf '%s\n' "$text" | tail -n +"$([ -n "$header" ] && echo 2 || echo 1)" | head -c 200000 | paste -d '\n' - - - | awk 'length($0) < 4000')
  done < <(find "$root/sample-data/logs" -type f -print0 | sort -z)
  printf '{"type":"conversion","event_id":"e1","ts":1761991200000,"product_id":"p1","platform":"brand_store","store":"s1","order_id":"o1","amount":"19.99","currency":"eur","quantity":2,"status":"REFUNDED","click_id":12345678901234567890}\r\n\n  \n{"type":"view","event_id":"v\\u00e9\\ud83d\\ude00","ts":"2026-11-01 10:00:00.123456+07:00","creator_id":"c"}\n' > "$dir/seed-extra-1"
  printf 'type,event_id,ts,creator_id,product_id,platform,store,amount,order_id,quantity\nclick,"c""1",2026-11-01T00:00:00Z,cr,p,brand_store,"s,1",,,\nconversion,k1,1761955200000,,p,amazon,,1e3,o9,3\n' > "$dir/seed-extra-2"
}

seed_gzip() {
  local dir="$1"
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  local n=0
  while IFS= read -r -d '' file; do
    n=$((n + 1)); cp "$file" "$dir/seed-$n"
  done < <(find "$root/sample-data/logs" -type f -name '*.gz' -print0 | sort -z)
  printf 'hello\n' | gzip -n -9 > "$dir/seed-small"
  printf '' | gzip -n > "$dir/seed-empty-member"
  { printf 'a\n' | gzip -n; printf 'b\n' | gzip -n -1; } > "$dir/seed-two-members"
  printf 'plain text, no magic\n' > "$dir/seed-plain"
  head -c 3000 /dev/zero | gzip -n > "$dir/seed-zeros"
}

build
seeds=()  # read-only corpus folders after the one that grows (and a dictionary)
case "$target" in
  build) exit 0 ;;
  parser) binary="$fuzz/.build/release/FuzzParser"; seed_parser "$fuzz/corpus/parser"; max_len=8192 ;;
  gzip) binary="$fuzz/.build/release/FuzzGzip"; seed_gzip "$fuzz/corpus/gzip"; max_len=16384 ;;
  scanners) binary="$fuzz/.build/release/FuzzScanners"; mkdir -p "$fuzz/corpus/scanners"; seeds=("$fuzz/seeds/scanners" -dict="$fuzz/seeds/scanners.dict"); max_len=4096 ;;
  *) echo "usage: scripts/fuzz.sh parser|gzip|scanners|build [SECONDS] [libFuzzer options...]" >&2; exit 2 ;;
esac

artifacts="$fuzz/artifacts/$target"
mkdir -p "$artifacts"
log="$artifacts/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "fuzz.sh: $target for $seconds s; corpus $fuzz/corpus/$target; log $log" >&2
set +e
export SWIFT_BACKTRACE=enable=no  # let libFuzzer and ASan report crashes, not the Swift runtime
"$binary" "$fuzz/corpus/$target" ${seeds[@]+"${seeds[@]}"} \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" 2>&1 | tee "$log" | grep -E --line-buffered 'DONE|INITED|pulse|ERROR|VIOLATED|SUMMARY|stat::|Test unit written'
status=${PIPESTATUS[0]}
set -e
echo "fuzz.sh: $target finished with status $status; log $log" >&2
exit "$status"
