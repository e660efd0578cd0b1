#!/usr/bin/env bash
# Generates the low-level layer of the Python client package (models and one module per
# route) from openapi.yaml into clients/python/src/hake_client/_generated, which is checked
# in. Deterministic: the generator and the formatter it runs are pinned, and the output
# depends only on openapi.yaml and clients/python/openapi-python-client.yaml.
#
#   scripts/gen-python-client.sh           regenerate in place (after openapi.yaml changes)
#   scripts/gen-python-client.sh --check   exit 1 with a diff when the checked-in code is not
#                                          what openapi.yaml generates (tests/api/python_package.rs)
#   scripts/gen-python-client.sh --venv    only make the generator's venv (scripts/setup-test-env.sh)
#
# The generator lives in .venv-pygen (git-ignored), made here on first use. Its version is
# not the one of .venv-openapi: 0.26.2 is the last openapi-python-client whose output runs
# on Python 3.9, the package's floor.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-pygen
PACKAGES="openapi-python-client==0.26.2 ruff==0.13.3"
TARGET=clients/python/src/hake_client/_generated
CONFIG=clients/python/openapi-python-client.yaml

check=false
venv_only=false
case "${1:-}" in
    --check) check=true ;;
    --venv) venv_only=true ;;
    "") ;;
    *) echo "usage: $0 [--check | --venv]" >&2; exit 2 ;;
esac

if ! "$VENV/bin/python" - "$PACKAGES" 2>/dev/null <<'PY'; then
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (p.split("==") for p in sys.argv[1].split())))
PY
    echo "[gen-python-client] creating $VENV ($PACKAGES)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # shellcheck disable=SC2086 # one word per package
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $PACKAGES
fi

$venv_only && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The generator formats its output with the ruff of the same venv (its post hooks).
if ! PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
    --path openapi.yaml --meta none --output-path "$tmp/_generated" \
    --config "$CONFIG" >"$tmp/generate.log" 2>&1; then
    cat "$tmp/generate.log" >&2
    echo "[gen-python-client] openapi-python-client failed on openapi.yaml" >&2
    exit 1
fi
rm -rf "$tmp/_generated/.ruff_cache"

if $check; then
    if ! diff -ru --exclude=__pycache__ "$TARGET" "$tmp/_generated"; then
        echo "[gen-python-client] $TARGET is not what openapi.yaml generates: run scripts/gen-python-client.sh and commit" >&2
        exit 1
    fi
    exit 0
fi
rm -rf "$TARGET"
mv "$tmp/_generated" "$TARGET"
echo "[gen-python-client] generated $TARGET" >&2
