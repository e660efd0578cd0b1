#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
# The throwaway PostgreSQL that setup-test-env.sh started (see ensure_postgres there).
export HAKE_TEST_PG_URL=${HAKE_TEST_PG_URL:-postgres://postgres@127.0.0.1:${HAKE_TEST_PG_PORT:-55432}/postgres}
cargo test --locked "$@"
# The full run (no arguments) runs the store-facing integration tests a second time with
# every server on PostgreSQL (a fresh database per server; see tests/api/testdb.rs). The
# slow tests that do not touch the store run once.
if [ $# -eq 0 ]; then
    echo "[test] the store-facing integration tests again, on PostgreSQL" >&2
    HAKE_TEST_DATABASE=postgres cargo test --locked --test api -- \
        submit:: list:: cancel:: nonces:: logs:: logs_text:: restart:: crash:: python_clients::
fi
