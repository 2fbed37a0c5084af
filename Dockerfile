# One image with every Promethium binary; docker-compose.yml runs each daemon from it.
# Build: docker build -t promethium .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# node_exporter on its own, as scripts/run.sh explains (its hot-code list matches that build).
RUN cargo build --release --locked -p pm-node-exporter --bin node_exporter \
    && cargo build --release --locked --workspace --exclude pm-node-exporter --bins \
    && mkdir /out \
    && find target/release -maxdepth 1 -type f -perm -u+x -exec cp {} /out/ \;

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY deploy/ /etc/promethium/
WORKDIR /data
