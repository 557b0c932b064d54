#!/usr/bin/env bash
# Perception benchmark: `tandem observe` against browser-use 0.13.14's DOM state build, on the
# same Chromium, on generated pages of ~50, ~1,000 and ~12,000 elements served on 127.0.0.1.
# Prints, per page, the median time and the state size in characters of each, and the ratio.
#
# Usage: benches/observe/run.sh   (env: TANDEM_REPEAT=20, BU_REPEAT=5, CHROMIUM=path)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chromium="${CHROMIUM:-/usr/lib/chromium/chromium}"
tandem_repeat="${TANDEM_REPEAT:-20}"
bu_repeat="${BU_REPEAT:-5}"

echo "building tandem (release)..." >&2
(cd "$root" && cargo build -q --release -p tandem)
tandem="$root/target/release/tandem"

if [[ ! -x "$here/.venv/bin/python" ]] || ! "$here/.venv/bin/python" -c 'import browser_use' 2>/dev/null; then
  echo "installing browser-use 0.13.14 into $here/.venv..." >&2
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q browser-use==0.13.14
fi

python3 "$here/gen_pages.py" "$here/pages"

# Serve the pages on a free port of 127.0.0.1; stopped on exit, whatever happens.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$here/pages" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/small.html" >/dev/null && break
  sleep 0.1
done

printf '%-7s %6s | %9s %9s %6s %6s | %9s %6s %6s | %7s\n' page elems \
  "tandem ms" "(1st ms)" chars items "b-use ms" chars items speedup
for page in small medium large; do
  url="http://127.0.0.1:$port/$page.html"
  elems="$(grep -o '<[a-z]' "$here/pages/$page.html" | wc -l)"
  out="$(mktemp)" err="$(mktemp)"
  "$tandem" observe "$url" --repeat "$tandem_repeat" --chromium "$chromium" >"$out" 2>"$err"
  t_ms="$(tail -n 1 "$err" | sed -n 's/^observe: median \([0-9.]*\) ms over .*/\1/p')"
  t_first="$(sed -n 's/^observe: first run \([0-9.]*\) ms$/\1/p' "$err")"
  t_chars="$(wc -m <"$out")"
  t_items="$(grep -c '^\[' "$out" || true)"
  read -r _ b_ms b_chars b_items < <(
    "$here/.venv/bin/python" "$here/browser_use_state.py" --chromium "$chromium" \
      --repeat "$bu_repeat" "$url" 2>/dev/null | tail -n 1)
  speedup="$(python3 -c "print(f'{$b_ms / $t_ms:.0f}x')")"
  printf '%-7s %6s | %9s %9s %6s %6s | %9s %6s %6s | %7s\n' "$page" "$elems" \
    "$t_ms" "($t_first)" "$t_chars" "$t_items" "$b_ms" "$b_chars" "$b_items" "$speedup"
  rm -f "$out" "$err"
done
echo "ms: median over the repeats; (1st ms): tandem's first observation of the page, before it"
echo "knows any element's backendNodeId; chars: tandem's whole state text (header, elements,"
echo "viewport text) vs browser-use's element text; items: elements listed; speedup: median vs median"
