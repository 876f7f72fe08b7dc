# syntax=docker/dockerfile:1

# Tributary worker image. Build and run: infra/docker/README.md.
#
#   docker build -t tributary:local .
#   docker run --rm tributary:local describe topologies/readings.ts
#   docker run --rm --network tributary_default -e TRIBUTARY_BROKERS=kafka:19092 \
#     -p 127.0.0.1:9464:9464 tributary:local          # run topologies/readings.ts
#
# Debian (glibc), not Alpine (musl): rocksdb-native loads the prebuilt linux-x64 / linux-arm64
# binary shipped in its npm package, linked against glibc >= 2.34 and libatomic.so.1.
# TypeScript runs directly through tsx (no build step), so tsx is a production dependency.

# Override with --build-arg NODE_IMAGE=...; the default is the Node the tests run on (.nvmrc).
# NODE_IMAGE is the base of every stage: an LTS Node on Debian 12, pinned.
ARG NODE_IMAGE=node:26.12.1-bookworm-slim

# base adds what the prebuilt rocksdb-native binary needs to the slim Node image.
FROM ${NODE_IMAGE} AS base
# libatomic1: the slim Node image installs it only to unpack Node and then purges it (Node
# itself does not link it on amd64); rocksdb-native's binary does.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends libatomic1 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# No install scripts: rocksdb-native ships prebuilt binaries and esbuild (under tsx) finds its
# platform binary through its optional dependency.
# deps installs the production dependencies only.
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# Fail the build here, with a message, rather than at the first `docker run`.
RUN test -f node_modules/tsx/package.json \
  || { echo 'tsx must be in "dependencies" of package.json: bin/tributary.js runs the TypeScript sources through it' >&2; exit 1; }
# rocksdb-native carries binaries for 13 platforms (about 160 MB); keep this one's, for Node
# (not Bare), and check that it loads.
RUN find node_modules/rocksdb-native/prebuilds -mindepth 1 -maxdepth 1 \
    ! -name "linux-$(node -p process.arch)" -exec rm -rf {} + \
  && find node_modules/rocksdb-native/prebuilds -name '*.bare' -delete \
  && node -e "require('rocksdb-native')"

# runtime is the image: dependencies, sources, a non-root user and a state volume.
FROM base AS runtime
ENV NODE_ENV=production \
  TRIBUTARY_METRICS_HOST=0.0.0.0 \
  TRIBUTARY_METRICS_PORT=9464 \
  TRIBUTARY_STATE_DIR=/var/lib/tributary
# The only directory the worker writes (RocksDB stores, checkpoints). Created and owned by `node`
# before VOLUME, so a fresh (anonymous or named) volume starts with that owner.
RUN mkdir -p /var/lib/tributary && chown node:node /var/lib/tributary
COPY --from=deps /app/node_modules ./node_modules
# The context is an allowlist (.dockerignore): package*.json, tsconfig.json, bin/, src/,
# topologies/, schemas/, models/. The files stay owned by root: the `node` user can read, not
# change them. The image is a checkout, not the npm package: bin/tributary.js runs src/ through
# tsx, and tsconfig.json's `paths` map the topologies' `tributary` imports to src/ (decision 0011).
COPY . ./
USER node
VOLUME ["/var/lib/tributary"]
EXPOSE 9464
# Liveness. /readyz (joined the group, restores done) is for orchestrators with a readiness probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TRIBUTARY_METRICS_PORT || '9464') + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the worker finishes and commits the batches in flight, leaves the group and exits;
# that can take up to shutdownTimeoutMs (30 s), so stop it with `docker stop -t 45`
# (docker-compose.yml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/tributary.js"]
CMD ["run", "topologies/readings.ts"]
