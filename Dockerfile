# syntax=docker/dockerfile:1
# Image of the zdm suite: `zdm` (migrate, diff, status, ...) and `zdm-proxy` (the dual-write proxy).
#   docker build -t zdm:0.1.0 .
#   docker run --rm -p 14002:14002 -p 14001:14001 -e ZDM_ORIGIN_CONTACT_POINTS=... zdm:0.1.0
#   docker run --rm zdm:0.1.0 zdm migrate ks.t
# The default command starts the proxy; any other command line (beginning with `zdm` or `zdm-proxy`)
# replaces it.

# build installs every dependency, compiles the TypeScript, then drops the dev dependencies.
FROM node:20.19.5-bookworm-slim AS build
# Compilers for the native addons (better-sqlite3, snappy, lz4) when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# `prepare` builds the project, which needs the sources: skip scripts here, build the addons next.
RUN npm ci --ignore-scripts && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# runtime holds dist/ and the production dependencies only, and runs as an unprivileged user.
FROM node:20.19.5-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PATH=/opt/zdm/node_modules/.bin:$PATH \
    ZDM_PROXY_LISTEN_ADDRESS=0.0.0.0 \
    ZDM_METRICS_ADDRESS=0.0.0.0 \
    ZDM_CHECKPOINT_DIR=/var/lib/zdm/checkpoints
WORKDIR /opt/zdm
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The two commands on PATH; the checkpoint directory belongs to the unprivileged user that runs them.
RUN ln -s /opt/zdm/dist/cli/zdm.js /usr/local/bin/zdm \
  && ln -s /opt/zdm/dist/cli/zdm-proxy.js /usr/local/bin/zdm-proxy \
  && mkdir -p /var/lib/zdm/checkpoints \
  && chown -R 1000:1000 /var/lib/zdm
# The `node` user of the base image, by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
# 14002: the proxy's CQL port; 14001: /metrics, /health/readiness and /health/liveness.
EXPOSE 14002 14001
VOLUME ["/var/lib/zdm/checkpoints"]
CMD ["zdm-proxy", "start"]
