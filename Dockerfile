# One image for the web app, the worker and the CLI (docs/deployment.md):
#   docker build -t uat-refresh .
#   docker run uat-refresh web        # migrates the metadata database (one instance at a time), then serves :3000
#   docker run uat-refresh worker     # executes queued runs
#   docker run uat-refresh cli --status
# BASE_IMAGE is any Debian-based image with Node.js and npm; the app itself runs on the Node 24 that `npm ci`
# installs (the `node` package), so the official node image and a Debian one with its own nodejs both work.
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 CI=true
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# Behind a TLS-inspecting proxy, pass its CA bundle as a build secret: --secret id=ca_bundle,src=/path/to/bundle.pem
RUN --mount=type=secret,id=ca_bundle \
    if [ -f /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --no-audit --no-fund
COPY . .
ENV PATH=/app/node_modules/.bin:$PATH
# The web app from Next's standalone output (its server and the modules it traced, plus the static assets); the CLI
# and the stream threads from the engine's bundle (scripts/engine-bundle.mjs); the worker and the migrations from
# source through tsx; with only the packages they import (scripts/image-deps.mjs): no build tools, no demo-only
# packages, no second copy of Next.
RUN NEXT_OUTPUT=standalone next build \
  && node scripts/engine-bundle.mjs dist \
  && node scripts/image-deps.mjs \
  && npm prune --omit=dev --no-audit --no-fund \
  && mkdir -p /out/web/.next \
  && cp -a .next/standalone/. /out/web/ \
  && cp -a .next/static /out/web/.next/static \
  && cp -a node_modules dist lib scripts prisma bin package.json prisma.config.ts tsconfig.json /out/

FROM ${BASE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOME=/tmp PORT=3000 HOSTNAME=0.0.0.0 \
    PATH=/app/node_modules/.bin:$PATH \
    # Where the web server's stream threads find the engine's source (the standalone server runs from /app/web).
    UAT_REFRESH_HOME=/app \
    # The app handles SIGTERM itself: runs in progress finish within WORKER_STOP_GRACE_SECONDS, then are cancelled.
    NEXT_MANUAL_SIG_HANDLE=true
COPY --from=build --chown=10001:0 /out /app
USER 10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/app/scripts/container-entrypoint.sh"]
CMD ["web"]
