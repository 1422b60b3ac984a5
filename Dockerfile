# syntax=docker/dockerfile:1
# kubeadapt ebpf-agent image. Build: docker build -t ebpf-agent .
# The build stage runs scripts/image/build-app.sh, the same script the local
# tests run, so this recipe and the README's set-up cannot drift apart.

ARG NODE_MAJOR=24
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_MAJOR}-${DEBIAN_RELEASE} AS build
# Same build dependencies as scripts/setup.sh. Versions are not pinned: the
# Debian stable release is the pin, and the runtime stage installs libbpf1 from
# the same release, so the addon links against the library it loads at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN bash scripts/image/build-app.sh /out

# Runtime: the official Node slim image plus Debian's libbpf1/libelf1 (zlib1g is
# already there). Chosen over distroless (which has no shell) because the three
# libraries stay dpkg-managed packages from the same release the addon was built
# against, visible to image scanners and patched by a rebuild, instead of .so
# files copied across images; and node is on PATH as the ENTRYPOINT expects.
# The shell that comes with it is never used at run time (exec-form ENTRYPOINT);
# npm, npx, corepack and yarn are removed because the agent never needs them.
FROM node:${NODE_MAJOR}-${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
COPY --from=build /out /app
WORKDIR /app
ENV NODE_ENV=production
# Loading BPF programs and pinning maps in bpffs needs root; the chart grants
# the capabilities (CAP_BPF, CAP_NET_ADMIN, ...) and a read-only root
# filesystem: the agent writes only to bpffs and, if ever, /tmp.
USER root
EXPOSE 9090
# V8 flags: bench/node-flags.ts says why (a smaller young generation: -40 MiB of RSS with informers).
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/agent/dist/main.js"]
