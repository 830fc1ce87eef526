#!/bin/sh
# The image's entry point: `web` (migrate, then serve), `worker`, `migrate`, or `cli ARGS...`.
set -e
cd /app
case "${1:-web}" in
  web)
    node --import tsx scripts/migrate.ts
    # Next's standalone server (it reads PORT and HOSTNAME).
    exec node web/server.js
    ;;
  worker)
    exec node --import tsx scripts/worker.ts
    ;;
  migrate)
    exec node --import tsx scripts/migrate.ts
    ;;
  cli)
    shift
    exec node dist/cli.mjs "$@"
    ;;
  *)
    echo "usage: web | worker | migrate | cli [ARGS...]" >&2
    exit 2
    ;;
esac
