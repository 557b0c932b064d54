#!/usr/bin/env bash
# Install what is missing (Chromium, the release build) and run `tandem serve`.
#
# With no arguments the server uses its embedded defaults: it listens on 127.0.0.1:8080, keeps
# its state in ./data (relative to the repository root) and prints its API key on start.
# Any arguments are passed on: ./scripts/serve.sh --listen 0.0.0.0:8080 --max-sessions 4
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

./scripts/install-deps.sh
cargo build --release --bin tandem
exec "${CARGO_TARGET_DIR:-$repo/target}/release/tandem" serve "$@"
