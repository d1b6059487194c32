# Build stage: compile the TypeScript sources to dist/ with the dev dependencies.
# Node.js 26 is the Active LTS line (Node 22 is the oldest the bot supports).
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY blocks ./blocks
COPY jobs ./jobs
RUN npm run build

# Runtime stage: production dependencies and the compiled JavaScript only, as the unprivileged node user.
FROM node:26-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
# A heap cap makes V8 collect before the heap balloons; without it a first scan of 100k findings
# peaks at about 300 MB RSS although the live heap stays under 50 MB (docs/performance.md).
ENV NODE_OPTIONS=--max-old-space-size=160
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/blocks ./dist/blocks
COPY --from=build /app/dist/jobs ./dist/jobs
USER node
ENV PORT=3000
EXPOSE 3000
# Every role (web, worker, all) serves /healthz on PORT, so one check fits every container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "bin/access-patrol.js", "start"]
