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
