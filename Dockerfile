# syntax=docker/dockerfile:1
# 1. the dashboard
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# 2. the server (embeds the dashboard built above)
FROM rust:1.95-bookworm AS backend
WORKDIR /src
COPY . .
COPY --from=frontend /src/static ./static
RUN cargo build --release -p wahub && strip target/release/wahub

# 3. a slim runtime, not root
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 wahub \
    && useradd --system --uid 10001 --gid 10001 --home /data --shell /usr/sbin/nologin wahub \
    && mkdir -p /data && chown wahub /data
COPY --from=backend /src/target/release/wahub /usr/local/bin/wahub
USER 10001:10001
WORKDIR /data
ENV WAHUB_BIND=0.0.0.0:8080 WAHUB_DATA_DIR=/data WAHUB_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# Exit 0 only when /healthz answers 200 (asks the `bind` address, 0.0.0.0 as loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["wahub", "healthcheck"]
ENTRYPOINT ["wahub"]
CMD ["serve"]
