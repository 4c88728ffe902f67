#!/usr/bin/env bash
# condabox build beside podman build of the same environment (issue 7's goals:
# ≤ 0.2× podman's time, ≤ 0.05× for a one-package rebuild, ≤ 0.6× its image
# size with --prune safe). The peer is what micromamba-docker users do: a
# Containerfile FROM a base holding the package manager (here condabox,
# static, with MAMBA_ROOT_PREFIX=/opt/conda and user mambauser 57439 as
# mambaorg/micromamba has, on a debian:bookworm-slim-like base as theirs),
# COPY env.yml, RUN create + remove the package cache. The timed builds start
# from that same base in a local docker-registry and end with the image
# pushed there; env.yml is python requests jq (+ edge-versions, changed
# 1 → 2 for the rebuild) from the realistic channel on loopback. The sizes
# also cover condabox builds onto the plain slim-like base and onto a
# distroless-like one (gcr.io/distroless/cc-debian12's packages): a condabox
# image needs no shell or package manager from its base.
# Needs root, podman, runc, docker-registry and mmdebstrap (internal/testimage
# builds the bases on first use, about a minute, and caches them).
# Usage: sudo bench/image/compare.sh [WORKDIR]   (default /tmp/imgcompare)
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in podman runc /usr/bin/docker-registry jq bc mmdebstrap; do
	command -v $tool >/dev/null || { echo "skip: $tool not installed"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "skip: podman runs rootful here: need root"; exit 0; }
B=${1:-/tmp/imgcompare} CH_PORT=8766 REG_PORT=5056
R=127.0.0.1:$REG_PORT
. bench/image/lib.sh
start_fixtures
"$B/testimage" push slim $R/bookworm-slim:12
"$B/testimage" push distroless $R/distroless-cc:12

# The base, not timed: a user pulls it (mambaorg/micromamba) once.
mkdir -p "$B/base" "$B/ctx"
cp "$B/condabox" "$B/base/condabox"
cat >"$B/base/Containerfile" <<'EOC'
ARG BASE
FROM $BASE
COPY condabox /usr/local/bin/condabox
RUN groupadd -g 57439 mambauser && useradd -u 57439 -g 57439 -m -s /bin/bash mambauser && \
    mkdir -p /opt/conda && chown mambauser:mambauser /opt/conda
ENV MAMBA_ROOT_PREFIX=/opt/conda PATH=/opt/conda/bin:$PATH LANG=C.UTF-8 LC_ALL=C.UTF-8
USER mambauser
WORKDIR /tmp
EOC
podman build -q --pull=always --tls-verify=false --build-arg BASE=$R/bookworm-slim:12 --format docker -t localhost/condabox-base:1 "$B/base" >/dev/null
podman push -q --tls-verify=false localhost/condabox-base:1 $R/condabox-base:1

# micromamba-docker's recipe: install into the base prefix, then
# `micromamba clean --all` (the package and index caches under pkgs/). The
# label makes this run's layers its own: podman's cache must not hold an
# earlier run's rebuild.
cat >"$B/ctx/Containerfile" <<EOC
FROM localhost/condabox-base:1
LABEL condabox.bench.run=$(date +%s%N)
COPY --chown=57439:57439 env.yml /tmp/env.yml
RUN condabox create -y -p /opt/conda -f /tmp/env.yml >/dev/null && rm -rf /opt/conda/pkgs
EOC

# The peer as issue 7 words it (RUN condabox install -f env.yml), without
# micromamba-docker's cache cleanup: its image keeps /opt/conda/pkgs (the
# archives, and the extracted packages the environment is hard-linked
# from). Timed in the alternating cold runs below; its size is a row too.
mkdir -p "$B/ctx-nocleanup"
sed 's# && rm -rf /opt/conda/pkgs##' "$B/ctx/Containerfile" >"$B/ctx-nocleanup/Containerfile"

PODMAN_BUILD="podman build --format docker --network host -t localhost/penv:v1 $B/ctx"
PODMAN_PUSH="podman push --tls-verify=false localhost/penv:v1 $R/penv:v1"
NC_BUILD="podman build --format docker --network host -t localhost/penv-nocleanup:v1 $B/ctx-nocleanup"
NC_PUSH="podman push --tls-verify=false localhost/penv-nocleanup:v1 $R/penv-nocleanup:v1"
CONDABOX_BUILD="$B/condabox build -f $B/env.yml --override-channels --base $R/condabox-base:1 --tag $R/cenv:v1 --push --json"
echo "peer: $PODMAN_BUILD && $PODMAN_PUSH"
echo "issue's peer (no cleanup): $NC_BUILD && $NC_PUSH"
echo "ours: HOME=$B/home CONDA_PKGS_DIRS=$B/home/pkgs SOURCE_DATE_EPOCH=1700000000 $CONDABOX_BUILD"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# timed_peer VAR WHO CTX BUILD PUSH LABEL [podman build flags]: copies
# env.yml into CTX, runs podman build (BUILD) then push (PUSH), prints both
# times and keeps their sum in $VAR.
timed_peer() {
	local var=$1 who=$2 ctx=$3 build=$4 push=$5 label=$6 b p sum
	shift 6
	cp "$B/env.yml" "$ctx/env.yml"
	b=$(elapsed $build "$@")
	p=$(elapsed $push)
	sum=$(echo "$b + $p" | bc)
	printf -v "$var" '%s' "$sum"
	printf '%-26s %s build %6.2f s + push %5.2f s = %6.2f s\n' "$label" "$who" "$b" "$p" "$sum"
}
# peer LABEL [flags]: micromamba-docker's recipe, into $PEER; peer_nc
# LABEL [flags]: the peer as issue 7 words it, into $PEER_NC.
peer() { timed_peer PEER peer "$B/ctx" "$PODMAN_BUILD" "$PODMAN_PUSH" "$@"; }
peer_nc() { timed_peer PEER_NC "issue peer" "$B/ctx-nocleanup" "$NC_BUILD" "$NC_PUSH" "$@"; }
# ours LABEL PEER_SECONDS [condabox build flags]: condabox build --push
# with its caches in $OURS_HOME; prints its time and, given the peer's, the
# ratio.
OURS_HOME=$B/home
ours() {
	local label=$1 peer=$2 s ratio=-
	shift 2
	s=$(HOME="$OURS_HOME" CONDA_PKGS_DIRS="$OURS_HOME/pkgs" SOURCE_DATE_EPOCH=1700000000 elapsed $CONDABOX_BUILD "$@")
	LAST=$s
	[ -z "$peer" ] || ratio=$(printf '%.3f' "$(echo "$s / $peer" | bc -l)")
	printf '%-26s ours %6.2f s   ratio %5s   %s\n' "$label" "$s" "$ratio" "$(jq -r .digest "$B/out.json" | cut -c1-19)"
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
podman rmi -f localhost/penv:v1 >/dev/null 2>&1 || true
rm -rf "$B/home" && mkdir -p "$B/home"
env_yml 1.0.0
peer "cold" --no-cache
PEER_COLD=$PEER
ours "cold (no pkgs, no layers)" "$PEER"
peer "warm"
PEER_WARM=$PEER
ours "warm" "$PEER"
# The caches as a one-package rebuild finds them, for the repeats below.
rm -rf "$B/home-warm" && cp -a "$B/home" "$B/home-warm"
env_yml 2.0.0
peer "one package changed"
PEER_CHANGED=$PEER
ours "one package changed" "$PEER"
# A one-package rebuild takes a fifth of a second: one sample swings with
# the machine by more than the goal's margin. $ONE_RUNS (4) more, each
# from a copy of the warm caches, the tag put back to edge-versions 1
# first (a warm build, not timed); the median against the peer's rebuild.
ONE_RUNS=${ONE_RUNS:-4}
ones=$LAST
for i in $(seq "$ONE_RUNS"); do
	OURS_HOME=$B/home-one
	rm -rf "$OURS_HOME" && cp -a "$B/home-warm" "$OURS_HOME"
	env_yml 1.0.0
	ours "  (tag back to 1)" "" >/dev/null
	env_yml 2.0.0
	ours "one package changed ($i)" "$PEER"
	ones="$ones $LAST"
done
OURS_HOME=$B/home
OM1=$(echo $ones | tr ' ' '\n' | median)
printf '%-26s peer %6.2f s   ours %6.2f s   ratio %5.3f\n' "one package, median of $((ONE_RUNS + 1))" "$PEER_CHANGED" "$OM1" "$(echo "$OM1 / $PEER_CHANGED" | bc -l)"
# A CI runner starts with empty caches, condabox's and podman's: one package
# changed there, and back, each against the peer's cold build. condabox
# takes the layers the tag's image has (--reuse-pushed-layers).
for v in 1.0.0 2.0.0; do
	env_yml $v
	OURS_HOME=$B/home-fresh
	rm -rf "$OURS_HOME" && mkdir -p "$OURS_HOME"
	ours "fresh runner, to $v" "$PEER_COLD"
done
OURS_HOME=$B/home
# Where the rebuild's time goes: the same rebuild without .pyc compilation
# (ratios still against the peer's rebuild, which compiles them).
env_yml 1.0.0
ours "back to 1, no pyc" "$PEER" --compile-pyc=false --tag $R/cenv:nopyc
env_yml 2.0.0
ours "changed again, no pyc" "$PEER" --compile-pyc=false --tag $R/cenv:nopyc
# zstd layers (--compression zstd), from empty caches, against the same
# peer rows (podman pushes gzip).
OURS_HOME=$B/home-zstd
rm -rf "$OURS_HOME" && mkdir -p "$OURS_HOME"
ours "cold, zstd" "$PEER_COLD" --compression zstd --tag $R/cenv:zstd
ours "warm, zstd" "$PEER_WARM" --compression zstd --tag $R/cenv:zstd
env_yml 1.0.0
ours "one package changed, zstd" "$PEER_CHANGED" --compression zstd --tag $R/cenv:zstd
env_yml 2.0.0
OURS_HOME=$B/home

# Cold builds again, alternating, $COLD_RUNS (3) of each: one cold pair
# swings with the machine (the peer took 3.2–6.4 s over a day), the median
# of several does less. Each peer build is --no-cache; each of ours starts
# from empty caches. Both peers: micromamba-docker's recipe (cache removed)
# and issue 7's words (cache kept, so a bigger layer to commit and push).
COLD_RUNS=${COLD_RUNS:-3}
peers= peers_nc= OURS_S=
for i in $(seq "$COLD_RUNS"); do
	peer "cold again ($i)" --no-cache
	peer_nc "cold again ($i)" --no-cache
	OURS_HOME=$B/home-cold$i
	rm -rf "$OURS_HOME" && mkdir -p "$OURS_HOME"
	ours "cold again ($i)" "$PEER" --tag $R/cenv-cold$i:v1
	peers="$peers $PEER" peers_nc="$peers_nc $PEER_NC" OURS_S="$OURS_S $LAST"
done
OURS_HOME=$B/home
PM=$(echo $peers | tr ' ' '\n' | median) PN=$(echo $peers_nc | tr ' ' '\n' | median) OM=$(echo $OURS_S | tr ' ' '\n' | median)
printf '%-26s peer %6.2f s   ours %6.2f s   ratio %5.3f\n' "cold, median of $COLD_RUNS" "$PM" "$OM" "$(echo "$OM / $PM" | bc -l)"
printf '%-26s issue peer %6.2f s   ours %6.2f s   ratio %5.3f\n' "cold, median of $COLD_RUNS" "$PN" "$OM" "$(echo "$OM / $PN" | bc -l)"

# Sizes of the edge-versions 2 images: the peer's, ours on its base and, with
# --prune safe, ours on the same base, on the plain slim-like base and on the
# distroless-like one. Compressed: the layers' sizes in the pushed manifest;
# uncompressed: podman image inspect after a pull; ratios to the peer's.
compressed() {
	curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$R/v2/$1/manifests/$2" | jq '[.layers[].size] | add'
}
unpacked() {
	podman pull -q --tls-verify=false "$R/$1:$2" >/dev/null
	podman image inspect --format '{{.Size}}' "$R/$1:$2"
}
ours "prune safe (sizes below)" "" --prune safe --tag $R/cenv:safe
ours "slim base, prune safe" "" --prune safe --base $R/bookworm-slim:12 --tag $R/cenv-slim:safe
ours "distroless, prune safe" "" --prune safe --base $R/distroless-cc:12 --tag $R/cenv-distroless:safe
# The issue's peer of edge-versions 2, for its size (from podman's cache
# after the cold runs; built here when COLD_RUNS=0).
cp "$B/env.yml" "$B/ctx-nocleanup/env.yml"
podman build -q --format docker --network host -t localhost/penv-nocleanup:v1 "$B/ctx-nocleanup" >/dev/null 2>>"$B/stderr.log"
podman push -q --tls-verify=false localhost/penv-nocleanup:v1 $R/penv-nocleanup:v1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
PC=$(compressed penv v1) PU=$(unpacked penv v1) NC=$(compressed penv-nocleanup v1)
# c/peer, u/peer: against the cleaned peer (micromamba-docker's recipe);
# c/issue: compressed, against the peer as issue 7 words it (no cleanup).
printf '%-24s %12s %12s %8s %8s %8s\n' image compressed uncompressed c/peer u/peer c/issue
for img in bookworm-slim:12 distroless-cc:12 condabox-base:1 penv:v1 penv-nocleanup:v1 cenv:v1 cenv:safe cenv-slim:safe cenv-distroless:safe; do
	c=$(compressed ${img%:*} ${img#*:}) u=$(unpacked ${img%:*} ${img#*:})
	printf '%-24s %12s %12s %8.3f %8.3f %8.3f\n' "$img" "$c" "$u" "$(echo "$c / $PC" | bc -l)" "$(echo "$u / $PU" | bc -l)" "$(echo "$c / $NC" | bc -l)"
done
# The images hold a working environment (not timed); distroless has no shell.
for img in localhost/penv:v1 $R/cenv:v1 $R/cenv-slim:safe $R/cenv-distroless:safe; do
	echo "$img: $(podman run --rm "$img" python -W ignore -c 'import requests, sys; print(sys.prefix, requests.__version__)') $(podman run --rm "$img" jq --version)"
done
