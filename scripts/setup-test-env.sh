#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, idempotently:
#  - .venv-bacalhau:    bacalhau-sdk==1.2.1 with bacalhau-apiclient==1.0.0 (root paths)
#  - .venv-bacalhau-v1: the same SDK with bacalhau-apiclient==1.0.4 (/api/v1 paths)
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
