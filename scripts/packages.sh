# Sourced by scripts/sample.sh, scripts/test.sh and .ci/run: makes sure the Debian/Ubuntu
# packages the project needs are installed, as root (apt-get directly) or as a user (sudo),
# or says exactly what to run. Usage: ensure_packages PACKAGE...
ensure_packages() {
  local missing=()
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing packages: ${missing[*]} (the names are Debian/Ubuntu's; install the equivalents and run again)" >&2
    return 1
  fi
  local run=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      run=(sudo)
    else
      echo "missing packages: ${missing[*]}; as root, run: apt-get update && apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  echo "installing ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  "${run[@]}" apt-get update -qq >&2 && "${run[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null || {
    echo "could not install: ${missing[*]}; run: ${run[*]:+${run[*]} }apt-get update && ${run[*]:+${run[*]} }apt-get install -y ${missing[*]}" >&2
    return 1
  }
}

# Swift itself is not a Debian package: say where to get it.
ensure_swift() {
  command -v swift >/dev/null 2>&1 && return 0
  echo "swift not found: install Swift 6.1 or later (https://www.swift.org/install/linux/) and put it on PATH" >&2
  return 1
}

# What the executables link against, and what the tests use besides.
RUNTIME_PACKAGES=(libsqlite3-dev zlib1g-dev libisal-dev libzstd-dev)
TEST_PACKAGES=(cmark-gfm time)
