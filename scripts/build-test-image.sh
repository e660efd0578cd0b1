#!/usr/bin/env bash
# Builds the local image the Docker integration tests run: FROM scratch with a static
# busybox and its applet symlinks in /bin. Nothing is pulled (there may be no registry).
#
#   scripts/build-test-image.sh            # builds hake-test-busybox:latest unless present
#   HAKE_TEST_IMAGE=name:tag scripts/...   # another tag
#   scripts/build-test-image.sh --force    # rebuild even when the image exists
#
# Idempotent: exits 0 at once when the image already exists. Installs Debian's
# busybox-static with apt-get when no static busybox is found. Exits non-zero with a
# message on stderr when anything fails.
set -euo pipefail

IMAGE="${HAKE_TEST_IMAGE:-hake-test-busybox:latest}"
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "build-test-image: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

die() {
    echo "build-test-image: $*" >&2
    exit 1
}

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (docker info failed)"

if [ "$FORCE" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "build-test-image: $IMAGE already exists"
    exit 0
fi

is_static() {
    # A static binary has no program interpreter.
    [ -x "$1" ] && ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter' \
        && LC_ALL=C readelf -h "$1" >/dev/null 2>&1
}

find_busybox() {
    local p
    for p in "${BUSYBOX:-}" /bin/busybox /usr/bin/busybox; do
        if [ -n "$p" ] && is_static "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

if ! command -v readelf >/dev/null 2>&1; then
    # readelf (binutils) tells static from dynamic; without it trust the Debian package.
    is_static() {
        [ -x "$1" ] && [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ]
    }
fi

if ! BB="$(find_busybox)"; then
    command -v apt-get >/dev/null 2>&1 || die "no static busybox found and apt-get is unavailable; install one and set BUSYBOX=/path/to/busybox"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "installing busybox-static needs root (or sudo)"
        SUDO="sudo"
    fi
    echo "build-test-image: installing busybox-static with apt-get"
    $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq busybox-static >/dev/null \
        || die "apt-get install busybox-static failed"
    BB="$(find_busybox)" || die "busybox-static is installed but no static busybox was found"
fi

CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/rootfs/bin" "$CTX/rootfs/tmp" "$CTX/rootfs/etc"
cp "$BB" "$CTX/rootfs/bin/busybox"
chmod 0755 "$CTX/rootfs/bin/busybox"
chmod 1777 "$CTX/rootfs/tmp"
for applet in $("$CTX/rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$CTX/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$CTX/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$CTX/rootfs/etc/group"
cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
LABEL org.hake.test-image="busybox"
CMD ["/bin/sh"]
DOCKERFILE

echo "build-test-image: building $IMAGE from $BB"
if ! out="$(docker build --quiet --tag "$IMAGE" "$CTX" 2>&1)"; then
    echo "$out" >&2
    die "docker build of $IMAGE failed"
fi
docker run --rm --network none "$IMAGE" /bin/sh -c 'echo ok' >/dev/null 2>&1 \
    || die "$IMAGE was built but does not run /bin/sh"
echo "build-test-image: built $IMAGE"
