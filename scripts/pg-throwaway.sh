#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the SDK tests (the Rust tests use testkit::postgres).
#
#   scripts/pg-throwaway.sh start        make and start a cluster; prints its directory on
#                                        the first line and its admin URL on the second
#   scripts/pg-throwaway.sh stop DIR     stop it (immediate) and remove DIR
#
# The cluster is made with Debian's initdb in a temporary directory, owned by `nobody` when
# run as root (PostgreSQL refuses root), on a free 127.0.0.1 port with its socket in that
# directory. Databases in it are made by the tests (tests/sdk/python/tandem_server.py).
set -euo pipefail

bin="${TANDEM_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"
[ -x "$bin/initdb" ] || {
  echo "pg-throwaway: no PostgreSQL under /usr/lib/postgresql: ./scripts/install-deps.sh --test" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    dir="$(mktemp -d /tmp/tandem-pg-XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown nobody: "$dir"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    (cd "$dir" && as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1) || {
      cat "$dir/initdb.log" >&2
      rm -rf "$dir"
      exit 1
    }
    (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null) || {
      cat "$dir/log" >&2
      rm -rf "$dir"
      exit 1
    }
    echo "$dir"
    echo "postgres://postgres@127.0.0.1:$port"
    ;;
  stop)
    dir="${2:?usage: pg-throwaway.sh stop DIR}"
    case "$dir" in /tmp/tandem-pg-*) ;; *) echo "pg-throwaway: not a throwaway cluster: $dir" >&2; exit 2 ;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
      pid="$(head -n1 "$dir/data/postmaster.pid")"
      (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null) || true
      for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -rf "$dir"
    ;;
  *)
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
