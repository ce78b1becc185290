# Quarry in a container: built from this repository in a Rust image, run as a non-root user
# from a slim Debian image with nothing but the binary. Data lives in the /data volume.
#   docker build -t quarry .
#   docker run -p 7700:7700 -v quarry-data:/data -e QUARRY_MASTER_KEY=... quarry
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p quarry \
    && strip target/release/quarry

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin quarry \
    && mkdir -p /data \
    && chown quarry:quarry /data
COPY --from=build /src/target/release/quarry /usr/local/bin/quarry
USER quarry
WORKDIR /data
ENV QUARRY_HTTP_ADDR=0.0.0.0:7700 \
    QUARRY_DB_PATH=/data/quarry.db \
    QUARRY_DUMP_DIR=/data/dumps \
    QUARRY_SNAPSHOT_DIR=/data/snapshots \
    QUARRY_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 7700
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/quarry"]
