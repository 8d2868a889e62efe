# syntax=docker/dockerfile:1
# Build stage: full install, compile TypeScript, then drop dev and optional dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# the browser SDK and demo page, bundled into dist/client (served at /demo in dev mode or with DEMO=true)
COPY client ./client
# production dependencies only; the embedded PostgreSQL (an optional dependency, ~60 MB of binaries) is
# left out: the image always runs with DATABASE_URL
RUN npm run build && npm prune --omit=dev --omit=optional

# Runtime stage: production dependencies and compiled code only, as the unprivileged "node" user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM from `docker stop` reaches node directly (no npm wrapper) and is handled gracefully.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
