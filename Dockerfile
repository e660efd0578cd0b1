# hake: multi-stage build of the release binary into a slim runtime image.
#
#   docker build -t hake .
#   docker run -p 1234:1234 -v hake-data:/var/lib/hake hake
#
# Stages: `runtime-base` (the slim image: a non-root user, the data dir as a volume, the
# health check), `prebuilt` (that base with a binary built outside, see below), `build`
# (cargo build --release) and `runtime`, the default: the base with the binary of `build`.
#
# The base images are build arguments so that machines without a registry can build from
# images they made locally (scripts/build-base-images.sh). Where the build cannot reach
# crates.io, `--target prebuilt` packs a binary built on the host instead: put it at
# ./hake in the build context (scripts/build-image.sh does). The stages are ordered so
# that the legacy builder, which builds every stage before the target, never needs the
# Rust image for `--target prebuilt`.
ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUNTIME_IMAGE} AS runtime-base
RUN groupadd --system --gid 10001 hake \
 && useradd --system --uid 10001 --gid hake --home-dir /var/lib/hake hake \
 && mkdir -p /var/lib/hake && chown hake:hake /var/lib/hake
ENV HAKE_LISTEN=0.0.0.0:1234 \
    HAKE_DATA_DIR=/var/lib/hake \
    HAKE_LOG_FORMAT=json
VOLUME ["/var/lib/hake"]
EXPOSE 1234
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["hake", "healthcheck"]
ENTRYPOINT ["hake"]
CMD ["serve"]

FROM runtime-base AS prebuilt
# `Dockerfile` always matches, so the COPY is valid when the context has no ./hake (a
# default build with the legacy builder passes through this stage too).
COPY Dockerfile hak[e] hake-sandbo[x] /usr/local/bin/
RUN rm /usr/local/bin/Dockerfile
USER hake

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --bin hake --bin hake-sandbox \
 && cp target/release/hake target/release/hake-sandbox /usr/local/bin/

FROM runtime-base AS runtime
COPY --from=build /usr/local/bin/hake /usr/local/bin/hake-sandbox /usr/local/bin/
USER hake
