#!/bin/sh
# The image HEALTHCHECK: GET /healthz on this container's own port, without starting Node — a Node start per check
# cost ~50 ms of CPU (12 % of a core at one check every 2 s); this costs a few ms. No curl needed:
#   bash's /dev/tcp where bash exists (Debian-based node images), busybox nc where it does not (alpine, busybox),
#   node dist/healthcheck.js as the last resort.
# The port: HEALTHCHECK_PORT, else METRICS_PORT (the worker's admin listener), else PORT — as dist/healthcheck.js.
port=${HEALTHCHECK_PORT:-0}
[ "$port" = 0 ] && port=${METRICS_PORT:-0}
[ "$port" = 0 ] && port=${PORT:-80}
case $port in '' | *[!0-9]*) echo "healthcheck: port '$port' is not a number" >&2; exit 1 ;; esac

if command -v bash >/dev/null 2>&1; then
  # A hung process still has its socket accepted by the kernel: the 2 s read is what catches it.
  # --norc and </dev/null: a bash whose stdin is a socket reads ~/.bashrc (Debian's rshd rule).
  exec bash --norc --noprofile -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
    IFS= read -r -t 2 status <&3 || { echo "healthcheck: no answer on port $1 within 2 s" >&2; exit 1; }
    case $status in "HTTP/1."?" 200 "*) exit 0 ;; esac
    echo "healthcheck: /healthz answered ${status%$(printf "\r")}" >&2; exit 1' healthcheck "$port" </dev/null
fi
if command -v nc >/dev/null 2>&1; then
  # busybox nc (its static wget crashes resolving even a literal address); timeout bounds the wait (-w only the connect).
  status=$(printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' | timeout 2 nc -w 2 127.0.0.1 "$port" 2>/dev/null | head -n 1)
  case $status in "HTTP/1."?" 200 "*) exit 0 ;; esac
  echo "healthcheck: /healthz on port $port ${status:+answered ${status%?}}${status:-gave no answer within 2 s}" >&2
  exit 1
fi
exec node dist/healthcheck.js  # the image runs HEALTHCHECK in its WORKDIR, /app
