#!/usr/bin/env bash
# Times condabox build on the realistic channel: python requests jq (+ edge-versions,
# the package changed for the one-package rebuild) onto a Debian 12 minbase image
# in a local docker-registry. Needs root, podman, docker-registry and the base
# rootfs that internal/testimage caches (run TestBuildRealisticPodman once).
# Usage: bench/image/run.sh [WORKDIR]   (default /tmp/imgbench)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-/tmp/imgbench}; mkdir -p $B
go build -o $B/condabox ./cmd/condabox
go build -o $B/testchannel ./internal/testchannel/cmd/testchannel
[ -d $B/ch ] || $B/testchannel --out $B/ch --format conda --cache /tmp/condabox-realistic-test-cache >/dev/null 2>&1
$B/testchannel serve $B/ch --addr 127.0.0.1:8765 >/dev/null 2>$B/serve.log & SERVE=$!
rm -rf $B/reg; mkdir -p $B/reg
cat > $B/reg.yml <<EOC
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $B/reg}}
http: {addr: 127.0.0.1:5055, secret: x}
EOC
/usr/bin/docker-registry serve $B/reg.yml >$B/reg.log 2>&1 & REG=$!
trap 'kill $SERVE $REG' EXIT
sleep 1
podman image exists localhost/bookworm-minbase || podman import /tmp/condabox-testimage-cache/bookworm-minbase.tar localhost/bookworm-minbase >/dev/null
podman push -q --tls-verify=false localhost/bookworm-minbase 127.0.0.1:5055/debian:12 >/dev/null
export HOME=$B/home SOURCE_DATE_EPOCH=1700000000 CONDA_PKGS_DIRS=$B/home/pkgs
env_yml() { printf 'channels: [http://127.0.0.1:8765]\ndependencies: [python, requests, jq, edge-versions =%s]\n' "$1" > $B/env.yml; }
build() { # label, extra args
  local label=$1; shift
  local t0=$(date +%s.%N)
  $B/condabox build -f $B/env.yml --override-channels --base 127.0.0.1:5055/debian:12 --json "$@" > $B/out.json
  local t1=$(date +%s.%N)
  printf '%-34s %6.2f s  %s  size %s\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(jq -r .digest $B/out.json | cut -c1-19)" "$(jq -r .images[0].size $B/out.json)"
}
rm -rf $B/home; mkdir -p $B/home
env_yml 1.0.0
build "cold (no pkgs, no layer cache)" --tag 127.0.0.1:5055/env:v1 --push
build "warm, same lock, push" --tag 127.0.0.1:5055/env:v1 --push
env_yml 2.0.0
build "one package changed, push" --tag 127.0.0.1:5055/env:v1 --push
env_yml 1.0.0
rm -rf $B/home/.cache/condabox/image-layers
build "warm pkgs, no layer cache, oci:" --tag env:v1 --output oci:$B/layout
for p in none safe aggressive; do build "prune $p, oci:" --tag env:$p --prune $p --output oci:$B/layout-$p; done
