# syntax=docker/dockerfile:1
# The provider image: the bundled provider on distroless Node.js 22 (LTS). The bundle holds every package it runs
# (esbuild, npm run build), so the image ships no node_modules: ~120 MB less for every node to pull.
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=$(node -p "require('./package.json').version") -t REGISTRY/aws-secrets-csi-provider:TAG .
# Multi-arch without emulation: the build stage runs on the builder's platform ($BUILDPLATFORM), which is sound
# because the output is platform-neutral JavaScript without native addons (the packaging test checks that). Only the
# final stage is per platform, and it runs no commands.
# test/integration/packaging/image.test.ts performs these steps (COPY, RUN, ENTRYPOINT) in a temporary directory.

# The version the image is labelled with; the build fails if it is not package.json's (what --version prints).
ARG VERSION=""
# The runtime image, named once: the build fills the compile cache with this image's own Node.js.
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# The runtime's Node.js for the builder's platform: it runs on the build stage's Debian (the same glibc).
FROM --platform=$BUILDPLATFORM ${RUNTIME_IMAGE} AS runtime-node

FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build
# The runtime's path: Node.js files each compile cache entry under the script's absolute path.
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build
# V8's compiled code for the bundle, ~100 ms of each start (scripts/compile-cache.mjs). Made with the ENTRYPOINT's
# node options, for the image's user and for uid 0 (the chart's); a start with other options, or on an architecture
# other than the builder's, compiles as it would without the cache.
COPY --from=runtime-node /nodejs ./runtime-node
COPY scripts/compile-cache.mjs ./scripts/
RUN runtime-node/bin/node --max-semi-space-size=1 --max-opt=1 --experimental-async-context-frame scripts/compile-cache.mjs dist/compile-cache 65532 0
# Declared late so that a new VERSION re-runs only this check, not npm ci and the build.
ARG VERSION
RUN test -z "$VERSION" || test "$VERSION" = "$(node -p 'require("./package.json").version')"

FROM ${RUNTIME_IMAGE}
ARG VERSION
LABEL org.opencontainers.image.title="aws-secrets-csi-provider" \
      org.opencontainers.image.description="Secrets Store CSI driver provider for AWS Secrets Manager and SSM Parameter Store" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# The provider finds package.json (its name and version) and the proto by walking up from dist/src.
COPY package.json ./
COPY proto ./proto
# The bundle alone: its entry point, the jmesPath worker's entry and the chunks both load on demand (tsc's
# per-module output beside them in dist/ is for type checking, not for running).
COPY --from=build /app/dist/src/main.js ./dist/src/
COPY --from=build /app/dist/src/files/jmespathWorker.js ./dist/src/files/
COPY --from=build /app/dist/src/chunks ./dist/src/chunks
COPY --from=build /app/dist/compile-cache ./dist/compile-cache
ENV NODE_COMPILE_CACHE=/app/dist/compile-cache
# distroless's nonroot user, numerically so that runAsNonRoot can verify it. The Helm chart runs the container
# as uid 0 without any capability, to create its socket in the host's root-owned directory (chart README).
USER 65532:65532
EXPOSE 8989
# An ENTRYPOINT, not a CMD: Kubernetes `args` (the chart's flags) are appended to it. Memory (README, Performance):
# a young generation of at most 2 x 1 MB (V8's default is 2 x 16) keeps the provider's resident memory ~15 MB lower
# through a Mount storm, for ~10 % less throughput when the CPU is saturated and no measurable latency; --max-opt=1
# stops at V8's baseline compiler, 13-20 MB less resident for ~20 % less throughput when the CPU is saturated (the
# chart's nodeOptions replace these options); main.ts sets the heap growing factor. --experimental-async-context-frame
# gives AsyncLocalStorage (each AWS request's signing identity, src/aws/clients.ts) Node 24's implementation, which
# does without async hooks on every promise: ~20 % less CPU per Mount (Node 24 has it always, and rejects the flag).
# `npm start`, the tests and the bench run the same options.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--max-opt=1", "--experimental-async-context-frame", "/app/dist/src/main.js"]
