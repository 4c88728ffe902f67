#!/usr/bin/env bash
# Times condabox build on the realistic channel: python requests jq (+ edge-versions,
# the package changed for the one-package rebuild) onto a Debian 12 minbase image
# in a local docker-registry. Needs root, podman, docker-registry and the base
# rootfs that internal/testimage caches (run TestBuildRealisticPodman once).
# Usage: bench/image/run.sh [WORKDIR]   (default /tmp/imgbench)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-/tmp/imgbench} CH_PORT=8765 REG_PORT=5055
. bench/image/lib.sh
start_fixtures
podman push -q --tls-verify=false localhost/bookworm-minbase 127.0.0.1:$REG_PORT/debian:12 >/dev/null
export HOME=$B/home SOURCE_DATE_EPOCH=1700000000 CONDA_PKGS_DIRS=$B/home/pkgs
build() { # label, extra args
	local label=$1 s
	shift
	s=$(elapsed "$B/condabox" build -f "$B/env.yml" --override-channels --base 127.0.0.1:$REG_PORT/debian:12 --json "$@")
	printf '%-34s %6.2f s  %s  size %s\n' "$label" "$s" "$(jq -r .digest "$B/out.json" | cut -c1-19)" "$(jq -r .images[0].size "$B/out.json")"
}
rm -rf "$B/home" && mkdir -p "$B/home"
env_yml 1.0.0
build "cold (no pkgs, no layer cache)" --tag 127.0.0.1:$REG_PORT/env:v1 --push
build "warm, same lock, push" --tag 127.0.0.1:$REG_PORT/env:v1 --push
env_yml 2.0.0
build "one package changed, push" --tag 127.0.0.1:$REG_PORT/env:v1 --push
env_yml 1.0.0
rm -rf "$B/home/.cache/condabox/image-layers"
build "warm pkgs, no layer cache, oci:" --tag env:v1 --output oci:"$B/layout"
for p in none safe aggressive; do build "prune $p, oci:" --tag env:$p --prune $p --output oci:"$B/layout-$p"; done
