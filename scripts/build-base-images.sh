#!/usr/bin/env bash
# Builds, from local sources, the base images the Dockerfile names, for machines that
# cannot pull from a registry. Nothing is pulled: Debian's packages come from the Debian
# mirror apt uses, the Rust toolchain from this machine's rustup.
#
#   scripts/build-base-images.sh               # the runtime base (debian:bookworm-slim)
#   scripts/build-base-images.sh --with-rust   # and the build base (rust:1-slim-bookworm)
#   scripts/build-base-images.sh --force       # rebuild even when the images exist
#
# - debian:bookworm-slim: a `debootstrap --variant=minbase` Debian bookworm rootfs,
#   imported with `docker import`.
# - rust:1-slim-bookworm: that rootfs plus gcc, libc6-dev, pkg-config and ca-certificates,
#   with the host's default Rust toolchain (rustc, cargo, the std library) copied into
#   /usr/local, and the CA certificates the host added to its own trust store. `docker
#   build --network host` then lets cargo reach crates.io as the host does.
#
# Idempotent: an image that exists is kept (unless --force). Needs root (debootstrap) and
# installs debootstrap with apt-get when it is missing. Exits non-zero with a message on
# stderr when anything fails.
set -euo pipefail

RUNTIME_TAG="${HAKE_RUNTIME_IMAGE:-debian:bookworm-slim}"
RUST_TAG="${HAKE_RUST_IMAGE:-rust:1-slim-bookworm}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-}"
WITH_RUST=0
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --with-rust) WITH_RUST=1 ;;
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build-base-images: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (docker info failed)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"

have_image() { [ "$FORCE" = 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

if [ -z "$MIRROR" ]; then
    # The mirror apt already uses here (deb822 or one-line sources), else Debian's own.
    MIRROR="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -oE 'https?://[^ ]+/debian/?' | head -n1 || true)"
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    log "installing debootstrap with apt-get"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
        || die "apt-get install debootstrap failed"
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# debootstrap ROOTFS [--include=...]: a minimal bookworm rootfs without apt caches.
bootstrap() {
    local dir=$1; shift
    ensure_debootstrap
    log "debootstrap $SUITE from $MIRROR into $dir $*"
    debootstrap --variant=minbase "$@" "$SUITE" "$dir" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/tmp/*
}

# import ROOTFS TAG [--change ...]: the rootfs as an image.
import_rootfs() {
    local dir=$1 tag=$2; shift 2
    tar --numeric-owner -C "$dir" -c . | docker import "$@" - "$tag" >/dev/null \
        || die "docker import of $tag failed"
    log "imported $tag"
}

if have_image "$RUNTIME_TAG"; then
    log "$RUNTIME_TAG already exists"
else
    bootstrap "$WORK/runtime"
    import_rootfs "$WORK/runtime" "$RUNTIME_TAG" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]'
fi

if [ "$WITH_RUST" = 1 ]; then
    if have_image "$RUST_TAG"; then
        log "$RUST_TAG already exists"
    else
        command -v rustc >/dev/null 2>&1 || die "no Rust toolchain on this machine to copy"
        SYSROOT="$(rustc --print sysroot)"
        bootstrap "$WORK/rust" --include=gcc,libc6-dev,pkg-config,ca-certificates
        log "copying the Rust toolchain from $SYSROOT"
        mkdir -p "$WORK/rust/usr/local/lib"
        cp -a "$SYSROOT/bin/." "$WORK/rust/usr/local/bin/"
        cp -a "$SYSROOT/lib/." "$WORK/rust/usr/local/lib/"
        # Certificate authorities this host added to its trust store (a TLS-inspecting
        # proxy's, say) are trusted by the build too, so cargo reaches crates.io from it.
        if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
            log "adding this host's local CA certificates to the build image"
            cp /usr/local/share/ca-certificates/*.crt "$WORK/rust/usr/local/share/ca-certificates/"
            chroot "$WORK/rust" update-ca-certificates >/dev/null \
                || die "update-ca-certificates failed in the rootfs"
        fi
        chroot "$WORK/rust" /usr/local/bin/cargo --version >/dev/null \
            || die "the copied toolchain does not run in the rootfs"
        import_rootfs "$WORK/rust" "$RUST_TAG" \
            --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV CARGO_HOME=/usr/local/cargo' \
            --change 'CMD ["bash"]'
    fi
fi
