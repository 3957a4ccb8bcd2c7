# mcp-exporter: the monitored demo MCP server (and the loadgen, from the same image).
#   docker build -t mcp-exporter .
#   docker run --rm -p 3000:3000 mcp-exporter        # MCP at :3000/mcp, /metrics beside it
# Settings come as flags or MCP_* environment variables (see the README).

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json LICENSE README.md ./
COPY src ./src
COPY grafana ./grafana
COPY prometheus ./prometheus
COPY scripts ./scripts
# The image installs the package as users do, from its tarball, with the peers the CLI
# needs (prom-client, the OpenTelemetry SDK) at the versions the lockfile pins.
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/mcp-exporter-*.tgz /tmp/mcp-exporter.tgz \
 && node scripts/cli-peers.mjs > /tmp/peers.txt

FROM node:20-slim
ENV NODE_ENV=production
ENV PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=build /tmp/mcp-exporter.tgz /tmp/peers.txt /tmp/
RUN npm install --omit=dev --no-audit --no-fund /tmp/mcp-exporter.tgz $(cat /tmp/peers.txt) && rm /tmp/mcp-exporter.tgz /tmp/peers.txt
USER node
EXPOSE 3000
# Node runs as PID 1 and handles SIGTERM itself: open sessions close as server_shutdown.
CMD ["mcp-exporter", "serve", "--host", "0.0.0.0"]
