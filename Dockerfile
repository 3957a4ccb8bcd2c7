# mcp-exporter: the monitored demo MCP server (and the loadgen, from the same image).
#   docker build -t mcp-exporter .
#   docker run --rm -p 3000:3000 mcp-exporter        # MCP at :3000/mcp, /metrics beside it
# Settings come as flags or MCP_* environment variables (see the README).

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Node runs as PID 1 and handles SIGTERM itself: open sessions close as server_shutdown.
CMD ["node", "dist/cli/main.js", "serve", "--host", "0.0.0.0"]
