#!/usr/bin/env bash
# Builds the hake image from the Dockerfile.
#
#   scripts/build-image.sh                         # full build: cargo build --release inside
#   scripts/build-image.sh --prebuilt PATH         # pack a binary built on this machine
#   scripts/build-image.sh --tag hake:dev ...      # another tag (default hake:latest)
#
# The full build needs the base images the Dockerfile names (on a machine without a
# registry: scripts/build-base-images.sh --with-rust) and reaches crates.io through the
# host's network (--network host). --prebuilt needs only the runtime base: the binary
# (debug info stripped) is the whole build context of the Dockerfile's `prebuilt` target,
# so it must run on Debian bookworm's glibc, as one built here does.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=hake:latest
PREBUILT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) TAG=$2; shift 2 ;;
        --prebuilt) PREBUILT=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "build-image: unknown argument: $1" >&2; exit 2 ;;
    esac
done

ARGS=()
[ -n "${HAKE_RUNTIME_IMAGE:-}" ] && ARGS+=(--build-arg "RUNTIME_IMAGE=$HAKE_RUNTIME_IMAGE")
[ -n "${HAKE_RUST_IMAGE:-}" ] && ARGS+=(--build-arg "RUST_IMAGE=$HAKE_RUST_IMAGE")

if [ -z "$PREBUILT" ]; then
    exec docker build --network host "${ARGS[@]}" --tag "$TAG" .
fi

[ -x "$PREBUILT" ] || { echo "build-image: $PREBUILT is not an executable" >&2; exit 1; }
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
cp Dockerfile "$CTX/Dockerfile"
if command -v objcopy >/dev/null 2>&1; then
    objcopy --strip-debug "$PREBUILT" "$CTX/hake"
else
    cp "$PREBUILT" "$CTX/hake"
fi
# The Exec engine's small helper, when it was built beside the binary.
SANDBOX="$(dirname "$PREBUILT")/hake-sandbox"
if [ -x "$SANDBOX" ]; then
    if command -v objcopy >/dev/null 2>&1; then
        objcopy --strip-debug "$SANDBOX" "$CTX/hake-sandbox"
    else
        cp "$SANDBOX" "$CTX/hake-sandbox"
    fi
fi
docker build "${ARGS[@]}" --target prebuilt --tag "$TAG" "$CTX"
docker run --rm --entrypoint hake "$TAG" --version >/dev/null \
    || { echo "build-image: the image's hake does not run" >&2; exit 1; }
