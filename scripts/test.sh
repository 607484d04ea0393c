#!/usr/bin/env bash
# The whole test suite: type checks, unit, integration (real redis-server, real processes and ports),
# browser (Debian's Chromium via playwright-core) and container tests (a real Docker engine).
# Installs what npm cannot when run as root on Debian; otherwise says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]} (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "The tests need: ${need[*]}. On Debian/Ubuntu: sudo apt-get install ${need[*]} — then run npm test again." >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
npm run typecheck --silent

# One run, one file at a time: the rate checks measure sleeps and queues, and must not share two cores
# with a turbo test spinning the CPU.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  test/unit/*.test.ts test/integration/*.test.ts test/browser/*.test.ts
