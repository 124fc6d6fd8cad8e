# syntax=docker/dockerfile:1
# Multi-stage build: compile with dev dependencies, run with production ones only.
# One image for both processes: the api (default command) and the worker
# (command: node --max-semi-space-size=64 dist/apps/worker/src/main.js). See docs/deploy.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM to node (which then shuts down cleanly)
# and reaps zombies; node itself never runs as PID 1.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The embedded database (used only without DATABASE_URL) lives in a volume.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The image's unprivileged user (uid 1000); the application files stay root-owned, read-only to it.
USER node
EXPOSE 3000
# Liveness of the api (the worker has no HTTP port: docker-compose.yml gives it its own check).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=64", "dist/apps/api/src/main.js"]
