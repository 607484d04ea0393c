#!/usr/bin/env bash
# npm run images:debug → dockercoins/debug:latest, the overlay-debugging chapter's tools image (the slide: "author your
# own image, with all your favorite tools"): curl, ab, drill, httping, ping and `dockercoins doctor`, on dockercoins/base
# (npm run images -- --base first). No apt or apk is needed inside: the tools are this host's binaries, each with the
# libraries ldd lists and the host's own dynamic loader under /opt/debug, so they run whatever libc the base has.
# The host needs them: apt-get install curl apache2-utils ldnsutils httping iputils-ping. ping runs unprivileged on
# ICMP datagram sockets (Docker allows them in containers: net.ipv4.ping_group_range), so no capability is needed.
set -euo pipefail
image=${1:-dockercoins/debug:latest}
base=${BASE:-dockercoins/base:latest}
tools=(curl ab drill httping ping)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/opt/debug/bin" "$ctx/opt/debug/lib" "$ctx/opt/debug/real"
loader=
for t in "${tools[@]}"; do
  path=$(command -v "$t") || { echo "debug-image: $t is missing on this host (apt-get install curl apache2-utils ldnsutils httping iputils-ping)" >&2; exit 1; }
  cp -L "$path" "$ctx/opt/debug/real/$t"
  while read -r lib; do cp -Ln "$lib" "$ctx/opt/debug/lib/" 2>/dev/null || true; done < <(ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  l=$(ldd "$path" | awk '$1 ~ /^\// {print $1}' | head -n 1)
  [ -n "$l" ] && loader=$l
done
[ -n "$loader" ] || { echo "debug-image: cannot find the dynamic loader of ${tools[*]}" >&2; exit 1; }
cp -L "$loader" "$ctx/opt/debug/lib/ld.so"
for t in "${tools[@]}"; do
  printf '#!/bin/sh\nexec /opt/debug/lib/ld.so --library-path /opt/debug/lib /opt/debug/real/%s "$@"\n' "$t" >"$ctx/opt/debug/bin/$t"
done
printf '#!/bin/sh\nexec node /app/dist/cli.js "$@"\n' >"$ctx/opt/debug/bin/dockercoins"
chmod 755 "$ctx"/opt/debug/bin/*
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY opt /opt
ENV PATH=/opt/debug/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# A tools container serves nothing: without this it inherits the base's check of port 80, turns unhealthy and Swarm
# replaces the task (and its \$CID) every ~20 s.
HEALTHCHECK NONE
# root, as the slide's alpine container: ping needs a raw socket where the image's sh runs busybox's own ping applet.
USER root
CMD ["sleep", "1000000000"]
DOCKERFILE
docker build -q -t "$image" "$ctx" >/dev/null
echo "images: $image ($(printf '%s ' "${tools[@]}")dockercoins; FROM $base)"
