# hake: multi-stage build of the release binary into a slim runtime image.
#
#   docker build -t hake .
#   docker run -p 1234:1234 -v hake-data:/var/lib/hake hake
#
# The base images are build arguments so that machines without a registry can build from
# images they made locally (see scripts/build-base-images.sh).
ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --bin hake \
 && cp target/release/hake /usr/local/bin/hake

FROM ${RUNTIME_IMAGE}
RUN groupadd --system --gid 10001 hake \
 && useradd --system --uid 10001 --gid hake --home-dir /var/lib/hake hake \
 && mkdir -p /var/lib/hake && chown hake:hake /var/lib/hake
COPY --from=build /usr/local/bin/hake /usr/local/bin/hake
USER hake
ENV HAKE_LISTEN=0.0.0.0:1234 \
    HAKE_DATA_DIR=/var/lib/hake \
    HAKE_LOG_FORMAT=json
VOLUME ["/var/lib/hake"]
EXPOSE 1234
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["hake", "healthcheck"]
ENTRYPOINT ["hake"]
CMD ["serve"]
