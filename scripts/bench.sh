#!/usr/bin/env bash
# One benchmark round, as recorded in docs/PERFORMANCE.md: the HTTP ceiling, signed
# submits, states, trivial Exec jobs (and pueue beside them when it is installed), log
# fan-out and catch-up, a 150 MB result download beside python's http.server serving the
# same file, RSS after 100,000 jobs with 5,000 idle followers (from a cold page cache
# when run as root), and optionally a soak. Each part runs against a fresh server on a
# fresh data dir.
#
#   scripts/bench.sh                 # everything but the soak
#   SOAK_MINUTES=10 scripts/bench.sh # with a 10-minute mixed-load soak at the end
#   PUEUE=/path/to/bin scripts/bench.sh   # where pueue and pueued are (cargo install pueue)
#   PG=0 scripts/bench.sh            # without the PostgreSQL part
#   ONLY=store scripts/bench.sh      # the ceiling, then submit, states, trivial and catch-up
#                                    # on SQLite and then on PostgreSQL, side by side
#
# The PostgreSQL part runs submit, states, trivial and catch-up again with the server on a
# PostgreSQL 15 of its own (Debian's binaries, initdb'd into the work dir, default
# durability: fsync and synchronous_commit on, as SQLite runs with synchronous=FULL).
set -euo pipefail
cd "$(dirname "$0")/.."
ONLY=${ONLY:-}
case "$ONLY" in
'' | store) ;;
*) echo "ONLY must be unset or 'store'" >&2; exit 2 ;;
esac
cargo build --release --locked --bin hake --bin hake-bench --bin hake-sandbox >&2
HAKE=target/release/hake
BENCH=target/release/hake-bench
PORT=${PORT:-1301}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/hake-bench.XXXXXX)
SERVER_PID=
trap 'stop_server; stop_postgres; rm -rf "$WORK"' EXIT

start_server() {
    stop_server
    if curl -fs "$URL/readyz" >/dev/null 2>&1; then
        echo "something already serves $URL; stop it or set PORT" >&2
        exit 1
    fi
    rm -rf "$WORK/data"
    # The Exec sandbox lets jobs execute only system paths: the emitter job of logs,
    # catch-up, rss and soak is this checkout's hake-bench.
    "$HAKE" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --allow-exec --docker off \
        --max-concurrent-executions 8 --log-max-bytes 300000000 \
        --max-log-streams-per-client 0 --exec-read-only-path "$PWD/target/release" \
        "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -fs "$URL/readyz" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

PG_PORT=${PG_PORT:-55433}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
# From a directory the postgres user can enter (else initdb warns about the cwd).
as_postgres() { (cd "$WORK" && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi); }

start_postgres() {
    mkdir -p "$WORK/pg"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK" "$WORK/pg"
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -A trust >/dev/null
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c max_connections=100 -c shared_buffers=256MB" >/dev/null; then
        echo "PostgreSQL did not start:" >&2
        cat "$WORK/pg/log" >&2
        exit 1
    fi
}

stop_postgres() {
    [ -d "$WORK/pg/data" ] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

# A server on a fresh PostgreSQL database.
start_server_pg() {
    local db="bench_$(date +%s%N)"
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
    start_server --database-url "postgres://postgres@127.0.0.1:$PG_PORT/$db" "$@"
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

# Runs hake-bench; prints its report lines and keeps its JSON line (tagged with the
# store) for the summary of ratios at the end.
STORE=sqlite
RESULTS=$WORK/results.jsonl
bench() {
    "$BENCH" "$@" | while IFS= read -r line; do
        case "$line" in
        '{'*) printf '%s\n' "$line" | python3 -c 'import json,sys; v=json.load(sys.stdin); v["store"]=sys.argv[1]; print(json.dumps(v))' "$STORE" >>"$RESULTS" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done
}

# The process-spawn ceiling of this machine: `true` 4,000 times, 8 at a time (hake's slots).
spawn_ceiling() {
    local t0 t1
    t0=$(date +%s.%N)
    seq 4000 | xargs -P8 -n1 true
    t1=$(date +%s.%N)
    python3 -c "import json,sys; s=$t1-$t0; print(f'spawn ceiling: 4000 x true, 8 at a time (xargs -P8): {4000/s:.0f} processes/s'); open(sys.argv[1],'a').write(json.dumps({'bench':'spawn','per_s':round(4000/s),'store':sys.argv[2]})+'\n')" "$RESULTS" "$STORE"
}

echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) on $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

"$BENCH" echo-server --listen 127.0.0.1:1241 >/dev/null &
ECHO_PID=$!
sleep 0.5
bench echo --url http://127.0.0.1:1241 --concurrency 64 --seconds 10
kill "$ECHO_PID"

[ -n "$ONLY" ] && echo "## SQLite"
start_server
bench livez --url "$URL" --concurrency 64 --seconds 10
bench submit --url "$URL" --concurrency 64 --seconds 10
start_server
bench livez --url "$URL" --concurrency 64 --seconds 10
bench states --url "$URL" --concurrency 64 --seconds 10
start_server
spawn_ceiling
bench trivial --url "$URL" --jobs 2000 --concurrency 64
bench trivial --url "$URL" --jobs 1000 --concurrency 1

if [ -z "$ONLY" ] && [ -x "${PUEUE:-/tmp/pueue/bin}/pueued" ]; then
    P=${PUEUE:-/tmp/pueue/bin}
    export PUEUE_CONFIG_PATH="$WORK/pueue.yml"
    mkdir -p "$WORK/pueue"
    printf 'shared:\n  pueue_directory: %s\n  runtime_directory: %s\n' "$WORK/pueue" "$WORK/pueue" >"$PUEUE_CONFIG_PATH"
    "$P/pueued" -c "$PUEUE_CONFIG_PATH" -d >/dev/null
    sleep 0.5
    "$P/pueue" -c "$PUEUE_CONFIG_PATH" parallel 8 >/dev/null
    t0=$(date +%s.%N)
    for _ in $(seq 1000); do "$P/pueue" -c "$PUEUE_CONFIG_PATH" add -- true >/dev/null; done
    "$P/pueue" -c "$PUEUE_CONFIG_PATH" wait >/dev/null
    t1=$(date +%s.%N)
    done_ok=$("$P/pueue" -c "$PUEUE_CONFIG_PATH" status --json | python3 -c 'import json,sys; t=json.load(sys.stdin)["tasks"].values(); print(sum(1 for x in t if "Done" in x["status"] and x["status"]["Done"]["result"]=="Success"))')
    echo "pueue: 1000 × 'pueue add -- true' then 'pueue wait' (parallel 8): $(python3 -c "print(f'{1000/($t1-$t0):.0f} tasks/s, {$t1-$t0:.2f}s')"), $done_ok succeeded"
    "$P/pueue" -c "$PUEUE_CONFIG_PATH" shutdown >/dev/null 2>&1 || true
fi

if [ -z "$ONLY" ]; then
    start_server
    bench logs --url "$URL" --rate 10000 --seconds 5 --followers 100 --server-pid "$SERVER_PID"
fi
start_server
bench catchup --url "$URL" --mb 100 --server-pid "$SERVER_PID"
if [ -z "$ONLY" ]; then
    start_server
    bench download --url "$URL" --mb 150 --rounds 20 --server-pid "$SERVER_PID"
    # The binary's mapped pages count in the RSS, and how many are mapped depends on how
    # the file entered the page cache (just written by the linker, or read in by the
    # kernel's readahead): up to 3 MB apart on one machine. Where we may, start this
    # server from a cold page cache so that rounds compare.
    if sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
        echo "(page cache dropped before the rss server started)"
    fi
    start_server
    bench rss --url "$URL" --server-pid "$SERVER_PID" --jobs 100000 --followers 5000
fi

if [ "${PG:-1}" != 0 ] && [ -n "$PG_BIN" ]; then
    echo "## PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync on)"
    STORE=postgres
    start_postgres
    start_server_pg
    bench livez --url "$URL" --concurrency 64 --seconds 10
    bench submit --url "$URL" --concurrency 64 --seconds 10
    start_server_pg
    bench livez --url "$URL" --concurrency 64 --seconds 10
    bench states --url "$URL" --concurrency 64 --seconds 10
    start_server_pg
    spawn_ceiling
    bench trivial --url "$URL" --jobs 2000 --concurrency 64
    start_server_pg
    bench catchup --url "$URL" --mb 100 --server-pid "$SERVER_PID"
    stop_server
    stop_postgres
fi

if [ -z "$ONLY" ] && [ -n "${SOAK_MINUTES:-}" ]; then
    start_server
    bench soak --url "$URL" --server-pid "$SERVER_PID" --minutes "$SOAK_MINUTES"
fi

echo "## Ratios (figure / its ceiling in this round) and the targets of issue #16"
python3 scripts/bench-summary.py "$RESULTS"
