# mcp-exporter: the monitored demo MCP server (and the loadgen, from the same image).
#   docker build -t mcp-exporter .
#   docker run --rm -p 3000:3000 mcp-exporter        # MCP at :3000/mcp, /metrics beside it
#   docker build --build-arg REVISION=$(git rev-parse --short=12 HEAD) -t mcp-exporter .   # revision in mcp_exporter_build_info
# Settings come as flags or MCP_* environment variables (see the README); set the port with
# MCP_PORT so that the HEALTHCHECK finds it.
#
# Node.js 24, an LTS line (supported until April 2028), pinned by version and digest; the
# package itself supports Node 20 and later.
ARG NODE_IMAGE=node:24.21.0-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

FROM ${NODE_IMAGE} AS build
ARG REVISION=unknown
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json LICENSE README.md ./
COPY src ./src
COPY grafana ./grafana
COPY prometheus ./prometheus
COPY scripts ./scripts
COPY cli ./cli
# The image runs the CLI package as packed: npm pack builds first (prepack), with the
# revision in build_info.
RUN MCP_EXPORTER_REVISION=${REVISION} npm pack ./cli --pack-destination /tmp && mv /tmp/mcp-exporter-cli-*.tgz /tmp/mcp-exporter-cli.tgz

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /tmp/mcp-exporter-cli.tgz /tmp/
# Unpacked, then `npm ci`: its npm-shrinkwrap.json pins every dependency at the version the
# repository's lockfile (and its tests) use. (npm honours a shrinkwrap for a package from
# the registry, not for a tarball given by path; npm ci honours it always.)
RUN tar -xzf /tmp/mcp-exporter-cli.tgz --strip-components=1 -C /app && rm /tmp/mcp-exporter-cli.tgz \
 && npm ci --omit=dev --no-audit --no-fund \
 && chmod 755 /app/dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/mcp-exporter
USER node
EXPOSE 3000
# Ready: the unauthenticated readiness route (503 while starting or shutting down), on the
# port MCP_PORT names (3000 unless set).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MCP_PORT || 3000) + '/-/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and handles SIGTERM itself: open sessions close as server_shutdown.
CMD ["mcp-exporter", "serve", "--host", "0.0.0.0"]
