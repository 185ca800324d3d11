#!/usr/bin/env bash
# Runs the test suite (swift test) after installing the system packages the tests need if
# they are missing (as root, or with sudo). Arguments go to swift test (e.g. --filter NAME).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=packages.sh
. "$root/scripts/packages.sh"
ensure_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_swift
cd "$root"
exec swift test "$@"
