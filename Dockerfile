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
ENV MALLOC_ARENA_MAX=2
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
# The first scan's peak RSS is garbage, not data: V8 lets the heap grow to several times what is live
# before it collects. These two flags are not a heap cap: the old generation may grow to 1.1x what
# the last full GC left live (--heap-growing-percent=10, instead of up to 4x), and the young one to 4 MB
# semi-spaces (--max-semi-space-size=4, instead of 16; 8 until Node 22's first scan of 100,000 findings
# peaked at 204 MB with it, 189 MB with 4, for about 24% more CPU on that first scan). At 10,000 findings the compiled bot peaked at
# 197 MB instead of 352 MB (docs/performance.md, "Peak RSS of the compiled bot"). --heap-growing-percent
# is not allowed in NODE_OPTIONS, hence on the command line (docker-compose.yml runs the same flags).
# --liftoff-only: the first fetch (the Slack client's) compiles undici's WebAssembly HTTP parser; V8's
# optimising compiler took about 30 MB for a moment doing so on Node 20, its peak at 100,000 findings.
# MALLOC_ARENA_MAX=2: glibc's malloc keeps an arena per allocating thread (V8's GC and compiler
# threads), and memory freed in one is not reused by the others; two are enough for one JS thread.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=10", "--liftoff-only", "bin/access-patrol.js", "start"]
