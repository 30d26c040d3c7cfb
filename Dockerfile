# The Sentinel image: the node, the CLI, the one-shot deployer and anvil (from its npm package),
# for docker-compose.yml. BASE is any Node 22 image with npm: the public one by default; the
# compose test (test/e2e/compose.test.ts) passes a local one because it has no image registry.
ARG BASE=node:22-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
# The lockfile alone first: this layer (the slow one) is reused until dependencies change.
COPY package.json package-lock.json ./
# devDependencies included: the node runs on libp2p, solc and upgrades-core, which the published
# package does not need (README, "The sentinel package").
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:contracts

FROM ${BASE}
# anvil (the chains, and each node's shadow fork) refuses to start without the system's CA
# certificates, even for an http:// fork URL; node:22-bookworm-slim has none. Installed at build
# time, only when the base lacks them.
RUN [ -s /etc/ssl/certs/ca-certificates.crt ] || { apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*; }
WORKDIR /app
# Owned by root: the node user runs the code, it cannot change it.
COPY --from=build /app /app
# Mount points owned by the node user, so the named volumes mounted there start out writable.
RUN mkdir -p /node /deploy /compile-cache /keys/node0 /keys/node1 /keys/node2 /keys/node3 \
 && chown node:node /node /deploy /compile-cache /keys/node0 /keys/node1 /keys/node2 /keys/node3
USER node
ENTRYPOINT ["node", "/app/src/cli/sentinel.ts"]
CMD ["--help"]
