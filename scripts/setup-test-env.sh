#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, idempotently:
#  - .venv-bacalhau:    bacalhau-sdk==1.2.1 with bacalhau-apiclient==1.0.0 (root paths)
#  - .venv-bacalhau-v1: the same SDK with bacalhau-apiclient==1.0.4 (/api/v1 paths)
#  - .venv-openapi:     openapi-spec-validator, openapi-python-client and cryptography; it
#                       validates openapi.yaml and generates a Python client from it into
#                       .generated/hake_client (git-ignored) whenever openapi.yaml changes
#  - jq, which the README's curl walkthrough uses
#  - .venv-schemathesis: schemathesis, run against the served openapi.yaml
#  - a running Docker daemon, the locally built test image and the runtime base image of
#    the Dockerfile (no registry is reachable: scripts/build-base-images.sh)
#  - docker-registry (Debian's), which the Docker pull tests start on loopback
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

make_venv() {
    local dir=$1 apiclient=$2
    if "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('bacalhau-apiclient') != '$apiclient' or m.version('bacalhau-sdk') != '1.2.1')" 2>/dev/null; then
        return
    fi
    log "creating $dir (bacalhau-sdk 1.2.1, bacalhau-apiclient $apiclient)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check bacalhau-sdk==1.2.1
    if [ "$apiclient" != "1.0.0" ]; then
        "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps "bacalhau-apiclient==$apiclient"
    fi
}

make_venv .venv-bacalhau 1.0.0
make_venv .venv-bacalhau-v1 1.0.4

SCHEMATHESIS_VERSION=4.32.5
if ! .venv-schemathesis/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    log "creating .venv-schemathesis (schemathesis $SCHEMATHESIS_VERSION)"
    rm -rf .venv-schemathesis
    python3 -m venv .venv-schemathesis
    .venv-schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

OPENAPI_PACKAGES="openapi-spec-validator==0.9.0 openapi-python-client==0.29.1 cryptography==50.0.2"

make_openapi_venv() {
    local dir=.venv-openapi
    if "$dir/bin/python" - "$OPENAPI_PACKAGES" 2>/dev/null <<'PY'; then
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (p.split("==") for p in sys.argv[1].split())))
PY
        return
    fi
    log "creating $dir ($OPENAPI_PACKAGES)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086 # one word per package
    "$dir/bin/pip" install --quiet --disable-pip-version-check $OPENAPI_PACKAGES
}

# Validates openapi.yaml and regenerates the client when the spec, the generator's config
# or the packages changed. The stamp's first line is the SHA-256 of the openapi.yaml it was
# generated from (tests/api/openapi_client.rs checks it); the second covers the rest.
generate_openapi_client() {
    local stamp=.generated/openapi.sha256 want
    want="$(sha256sum <openapi.yaml | cut -d' ' -f1)
$({ cat tests/python/openapi-client.yaml; echo "$OPENAPI_PACKAGES"; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d .generated/hake_client ]; then
        return
    fi
    log "validating openapi.yaml and generating .generated/hake_client"
    .venv-openapi/bin/openapi-spec-validator openapi.yaml
    rm -rf .generated/hake_client "$stamp"
    mkdir -p .generated
    # The generator formats its output with ruff from the same venv.
    PATH="$PWD/.venv-openapi/bin:$PATH" .venv-openapi/bin/openapi-python-client generate \
        --path openapi.yaml --meta none --output-path .generated/hake_client \
        --config tests/python/openapi-client.yaml >.generated/generate.log 2>&1 || {
        cat .generated/generate.log >&2
        log "openapi-python-client failed on openapi.yaml"
        return 1
    }
    echo "$want" >"$stamp"
}

make_openapi_venv
generate_openapi_client

ensure_jq() {
    if command -v jq >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing jq (the README walkthrough uses it)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
    elif [ "${CI:-}" = "true" ]; then
        log "CI=true and jq is missing (cannot apt-get install it here): failing"
        return 1
    else
        log "jq is missing: the README walkthrough test will skip"
    fi
}

ensure_jq

ensure_docker() {
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        log "no Docker daemon and no dockerd binary"
        return 1
    fi
    log "starting dockerd in the background"
    (dockerd >/tmp/hake-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    log "dockerd did not come up; see /tmp/hake-dockerd.log"
    return 1
}

if ensure_docker; then
    bash scripts/build-test-image.sh
    if ! bash scripts/build-base-images.sh; then
        [ "${CI:-}" = "true" ] && { log "CI=true and the base images cannot be built: failing"; exit 1; }
        log "the base images cannot be built: the deployment test will skip"
    fi
elif [ "${CI:-}" = "true" ]; then
    log "CI=true and Docker is unavailable: failing"
    exit 1
else
    log "Docker is unavailable: the Docker tests will skip"
fi

# A throwaway PostgreSQL for the store's PostgreSQL side: initdb'd as the postgres user
# into /tmp/hake-test-pg, listening on 127.0.0.1:${HAKE_TEST_PG_PORT:-55432} only, with
# fsync off (nothing in it outlives the run). Reused when it already answers. The tests
# find it through HAKE_TEST_PG_URL, which scripts/test.sh exports.
ensure_postgres() {
    local port=${HAKE_TEST_PG_PORT:-55432} dir=/tmp/hake-test-pg bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing PostgreSQL (Debian's postgresql package)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
    if [ -z "$bin" ]; then
        log "PostgreSQL is not installed"
        return 1
    fi
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        return 0
    fi
    local as=()
    if [ "$(id -u)" = 0 ]; then
        as=(runuser -u postgres --)
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    log "starting a throwaway PostgreSQL on 127.0.0.1:$port ($dir)"
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null || {
        cat "$dir/server.log" >&2
        return 1
    }
}

if ! ensure_postgres; then
    [ "${CI:-}" = "true" ] && { log "CI=true and PostgreSQL cannot be started: failing"; exit 1; }
    log "PostgreSQL is unavailable: the PostgreSQL tests will skip"
fi

# The Python client package (clients/python, tests/api/python_package.rs):
#  - .venv-pygen: the generator of its low-level layer (made by scripts/gen-python-client.sh)
#  - .venv-hake-client: the package installed from ./clients/python, with pytest and vermin;
#    the package is reinstalled whenever its files change (the stamp in the venv)
HAKE_CLIENT_TEST_PACKAGES="pytest==9.2.0 vermin==1.6.0"

setup_python_client_package() {
    bash scripts/gen-python-client.sh --venv
    local dir=.venv-hake-client stamp want
    stamp=$dir/hake-client.sha256
    want=$({ echo "$HAKE_CLIENT_TEST_PACKAGES"; find clients/python -type f -not -path '*/__pycache__/*' \
        -not -path 'clients/python/tests/*' | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    log "installing ./clients/python into $dir ($HAKE_CLIENT_TEST_PACKAGES)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086 # one word per package
    "$dir/bin/pip" install --quiet --disable-pip-version-check ./clients/python $HAKE_CLIENT_TEST_PACKAGES
    echo "$want" >"$stamp"
}

setup_python_client_package

# The Exec sandbox tests (tests/api/exec_sandbox.rs) probe from inside confined jobs, whose
# PATH is the system one: they need /usr/bin/python3 and bash there, and the user nobody.
ensure_exec_sandbox_tools() {
    if [ -x /usr/bin/python3 ] && [ -x /bin/bash ] && id nobody >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing python3 and bash for the Exec sandbox tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 bash >/dev/null
    elif [ "${CI:-}" = "true" ]; then
        log "CI=true and /usr/bin/python3 or bash is missing: failing"
        return 1
    else
        log "/usr/bin/python3 or bash is missing: some Exec sandbox probes will fail"
    fi
}

ensure_exec_sandbox_tools || exit 1

# The Docker pull tests (tests/api/docker_pull.rs) start their own registries on loopback
# with Debian's docker-registry (the CNCF distribution server); install it when missing.
ensure_docker_registry() {
    if command -v docker-registry >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing docker-registry (the Docker pull tests run a local registry)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
    elif [ "${CI:-}" = "true" ]; then
        log "CI=true and docker-registry is missing (cannot apt-get install it here): failing"
        return 1
    else
        log "docker-registry is missing: the Docker pull tests will skip"
    fi
}

ensure_docker_registry

# S3 tests (tests/api/s3*.rs): moto's S3 server and boto3 in .venv-s3. The tests start
# `moto_server` themselves on a free loopback port and write/check objects with boto3.
MOTO_PACKAGES="moto[server]==5.2.5 boto3==1.44.8"

make_s3_venv() {
    local dir=.venv-s3
    if "$dir/bin/python" -c "import moto, boto3, flask" 2>/dev/null \
        && [ "$(cat "$dir/.packages" 2>/dev/null)" = "$MOTO_PACKAGES" ]; then
        return
    fi
    log "creating $dir ($MOTO_PACKAGES)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086 # one word per package
    "$dir/bin/pip" install --quiet --disable-pip-version-check $MOTO_PACKAGES
    echo "$MOTO_PACKAGES" >"$dir/.packages"
}

make_s3_venv

# The web console's browser tests drive Debian's headless Chromium through chromedriver.
ensure_chromium() {
    if [ -x /usr/bin/chromium ] && command -v chromedriver >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing chromium and chromium-driver (the web console's browser tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    elif [ "${CI:-}" = "true" ]; then
        log "CI=true and chromium is missing (cannot apt-get install it here): failing"
        return 1
    else
        log "chromium is missing: the web console's browser tests will skip"
    fi
}

ensure_chromium

# .venv-airflow: the Bacalhau Airflow provider (bacalhau-airflow 1.3.2, PyPI's only
# third-party Bacalhau integration) with the SDK it was written against and Apache Airflow,
# for tests/api/airflow.rs. About 420 MB and 2–3 minutes to install.
AIRFLOW_PACKAGES="bacalhau-airflow==1.3.2 bacalhau-sdk==1.2.1 bacalhau-apiclient==1.0.0 apache-airflow==3.1.8"

make_airflow_venv() {
    local dir=.venv-airflow
    if "$dir/bin/python" - "$AIRFLOW_PACKAGES" 2>/dev/null <<'PY'; then
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (p.split("==") for p in sys.argv[1].split())))
PY
        return
    fi
    log "creating $dir ($AIRFLOW_PACKAGES)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086 # the package list is split on purpose
    "$dir/bin/pip" install --quiet --disable-pip-version-check $AIRFLOW_PACKAGES
}

make_airflow_venv
