# One Dockerfile, one target per service: rng, hasher, worker, webui. The four images share every layer but
# the last (CMD and a few variables), so building and pulling all four costs about as much as one.
# The runtime holds the bundles only (dist/: every dependency inside, no node_modules).
#   docker build --network host --target rng -t dockercoins/rng .
# The runtime stage is also the common image `dockercoins/base` (npm run images -- --base): ./rng/Dockerfile,
# ./hasher/Dockerfile, … add to it exactly the lines of their stage below (a unit test keeps them equal), so the
# workshop's loop `docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE` works from the repository root.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/build-web.mjs scripts/
COPY src src
COPY web web
# v0.2 (npm run images -- --tag v0.2) is built with WORKER_DELAY_DEFAULT_MS=1000: the workshop's slower worker.
ARG WORKER_DELAY_DEFAULT_MS=
RUN WORKER_DELAY_DEFAULT_MS=${WORKER_DELAY_DEFAULT_MS} npm run build && find dist -name '*.map' -exec rm {} +

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=latest
ENV NODE_ENV=production \
    PORT=80 \
    DOCKERCOINS_VERSION=${VERSION}
WORKDIR /app
# Owned by root, run as node: the code cannot be changed by the process serving it.
COPY --from=build /app/dist dist
COPY src/healthcheck.sh healthcheck
USER node
EXPOSE 80
STOPSIGNAL SIGTERM
# GET /healthz on the container's own port with bash or busybox, not a Node start per check (~2 ms of CPU, not ~50 ms).
# Every 10 s: the probe itself is cheap, but each check is a `docker exec` (runc joins the container: ~30–100 ms of
# CPU per check, measured from the cgroup) — every 2 s that alone was ~5 % of a core per container.
# No --start-interval (fast checks while starting): Compose 1.29 and engines before 25 reject it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/app/healthcheck"]

FROM runtime AS rng
CMD ["node", "--max-semi-space-size=2", "dist/cli.js", "rng"]

FROM runtime AS hasher
CMD ["node", "--max-semi-space-size=2", "dist/cli.js", "hasher"]

FROM runtime AS webui
CMD ["node", "--max-semi-space-size=2", "dist/cli.js", "webui"]

FROM runtime AS worker
# In containers the worker has its admin listener on: /healthz (loop heartbeat), /readyz, /metrics.
ENV METRICS_PORT=9100
EXPOSE 9100
CMD ["node", "--max-semi-space-size=2", "dist/cli.js", "worker"]
