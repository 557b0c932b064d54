#!/usr/bin/env bash
# Install what Tandem needs on a Debian machine, skipping whatever is already there.
#
#   scripts/install-deps.sh          Chromium (Debian package) and a check for cargo
#   scripts/install-deps.sh --test   also the test dependencies: cargo-nextest, the Python
#                                    venv with the official SDK (tests/sdk/python/.venv),
#                                    the npm SDK (tests/sdk/ts/node_modules) and PostgreSQL's
#                                    server binaries (Debian's postgresql; tests start their
#                                    own throwaway clusters, the packaged one is not used)
#
# Idempotent: a second run with everything present installs nothing and takes about a second.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chromium_bin="/usr/lib/chromium/chromium"

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    -h | --help)
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-deps: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

log() { echo "install-deps: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $*"
  fi
}

# Hash of a file, used to notice when a lock file changed since the last install.
file_hash() { sha256sum "$1" | cut -d' ' -f1; }

install_chromium() {
  if [ -x "$chromium_bin" ]; then
    return
  fi
  log "installing Chromium from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  [ -x "$chromium_bin" ] || die "Chromium is still missing at $chromium_bin after apt-get install"
}

check_cargo() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain (rustup) first"
}

install_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then
    return
  fi
  log "installing cargo-nextest from crates.io (one-time, several minutes)"
  cargo install --locked cargo-nextest
}

# The style gate in test.sh needs rustfmt and clippy; a minimal rustup profile lacks them.
install_style_tools() {
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    return
  fi
  command -v rustup >/dev/null 2>&1 || die "cargo fmt/clippy missing and no rustup to add them"
  log "adding rustfmt and clippy (rustup component add)"
  rustup component add rustfmt clippy
}

# The store's conformance suite and the PostgreSQL server tests run a throwaway cluster
# (crates/testkit/src/postgres.rs) from /usr/lib/postgresql/<version>/bin as an unprivileged
# user (`nobody` under root). Debian's package also creates and starts a `main` cluster;
# nothing here needs it.
install_postgres() {
  if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    return
  fi
  log "installing PostgreSQL from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null ||
    die "initdb is still missing under /usr/lib/postgresql after apt-get install"
}

install_python_sdk() {
  local dir="$repo/tests/sdk/python"
  local venv="$dir/.venv"
  local req="$dir/requirements.txt"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(file_hash "$req")"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found"
  log "creating the Python venv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
}

install_ts_sdk() {
  local dir="$repo/tests/sdk/ts"
  local lock="$dir/package-lock.json"
  local stamp="$dir/node_modules/.package-lock.sha256"
  local want
  want="$(file_hash "$lock")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found"
  log "installing the npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

install_chromium
check_cargo
if [ "$with_test" -eq 1 ]; then
  install_nextest
  install_style_tools
  install_postgres
  install_python_sdk
  install_ts_sdk
fi
