#!/usr/bin/env bash
# The cluster round of docs/CLUSTER.md: 1, 2 and 3 nodes on one PostgreSQL 15 of its own
# (Debian's binaries, initdb'd into a work dir, fsync on), each node a release `hake serve`
# on loopback. It measures, for each node count, Noop jobs/s (claims and commits only) and
# Exec `true` jobs/s with claim latency, and the CPU each process used (which saturates
# first); then cross-node log latency (a job printing 10,000 lines/s on node 2, followed
# through node 1) and the time the survivors take to fail the execution of a node killed
# with SIGKILL.
#
#   scripts/bench-cluster.sh
#   JOBS=6000 CONCURRENCY=128 scripts/bench-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin hake --bin hake-bench --bin hake-sandbox >&2
HAKE=$PWD/target/release/hake
BENCH=$PWD/target/release/hake-bench
JOBS=${JOBS:-3000}
CONCURRENCY=${CONCURRENCY:-64}
PG_PORT=${PG_PORT:-55434}
BASE_PORT=${BASE_PORT:-1311}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
WORK=$(mktemp -d /tmp/hake-cluster-bench.XXXXXX)
PIDS=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_nodes() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
stop_postgres() {
    [ -d "$WORK/pg/data" ] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap 'stop_nodes; stop_postgres; rm -rf "$WORK"' EXIT

mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK" "$WORK/pg"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -A trust >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c max_connections=200 -c shared_buffers=256MB" >/dev/null || {
    cat "$WORK/pg/log" >&2
    exit 1
}

# start_nodes N DB [flags…]: N nodes labelled name=node1…N on a fresh database DB.
start_nodes() {
    local n=$1 db=$2
    shift 2
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
    for i in $(seq "$n"); do
        local port=$((BASE_PORT + i))
        "$HAKE" serve --data-dir "$WORK/$db-node$i" --listen "127.0.0.1:$port" \
            --database-url "postgres://postgres@127.0.0.1:$PG_PORT/$db" --allow-exec --docker off \
            --max-concurrent-executions 8 --label "name=node$i" --max-log-streams-per-client 0 \
            --exec-read-only-path "$(dirname "$BENCH")" "$@" \
            >"$WORK/$db-node$i.log" 2>&1 &
        PIDS+=($!)
    done
    for i in $(seq "$n"); do
        for _ in $(seq 100); do
            curl -fs "http://127.0.0.1:$((BASE_PORT + i))/readyz" >/dev/null 2>&1 && break
            sleep 0.1
        done
    done
    # Every node must see the others before work is spread.
    for _ in $(seq 100); do
        [ "$(curl -fs "http://127.0.0.1:$((BASE_PORT + 1))/api/v1/requester/nodes" | grep -o CONNECTED | wc -l)" = "$n" ] && return
        sleep 0.1
    done
}
urls() { local n=$1 out=(); for i in $(seq "$n"); do out+=("http://127.0.0.1:$((BASE_PORT + i))"); done; (IFS=,; echo "${out[*]}"); }
# CPU seconds (user+system) of a process, its threads and its children that ended.
cpu() { awk '{print ($14 + $15 + $16 + $17) / 100}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU seconds of the whole PostgreSQL server: the postmaster (with the backends that
# ended) and the backends alive now.
pg_cpu() {
    local pm
    pm=$(head -1 "$WORK/pg/data/postmaster.pid")
    { cpu "$pm"; for c in $(pgrep -P "$pm"); do awk '{print ($14 + $15) / 100}' "/proc/$c/stat" 2>/dev/null; done; } |
        awk '{s += $1} END {print s}'
}

echo "## cluster round: $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync on)"
for n in 1 2 3; do
    for engine in noop exec; do
        start_nodes "$n" "c${n}_$engine"
        before_pg=$(pg_cpu)
        before=(); for p in "${PIDS[@]}"; do before+=("$(cpu "$p")"); done
        t0=$(date +%s.%N)
        "$BENCH" cluster --urls "$(urls "$n")" --jobs "$JOBS" --concurrency "$CONCURRENCY" --engine "$engine" | grep -v '^{'
        t1=$(date +%s.%N)
        used="PostgreSQL $(python3 -c "print(f'{($(pg_cpu) - $before_pg) / ($t1 - $t0):.2f}')") cores"
        for i in "${!PIDS[@]}"; do
            used+=", node$((i + 1)) $(python3 -c "print(f'{($(cpu "${PIDS[$i]}") - ${before[$i]}) / ($t1 - $t0):.2f}')")"
        done
        echo "  $engine, $n node(s): CPU used over the run: $used cores"
        stop_nodes
    done
done

start_nodes 2 logs
echo "cross-node logs: the job runs on node2, 100 followers read it through node1"
"$BENCH" logs --url "http://127.0.0.1:$((BASE_PORT + 1))" --rate 10000 --seconds 5 --followers 100 --selector name=node2 | grep -v '^{'
stop_nodes

for timeout in 5 30; do
    start_nodes 2 "lost$timeout" --node-timeout-secs "$timeout"
    echo "node loss with --node-timeout-secs $timeout:"
    "$BENCH" lost --url "http://127.0.0.1:$((BASE_PORT + 1))" --selector name=node2 --pid "${PIDS[1]}" | grep -v '^{'
    stop_nodes
done
