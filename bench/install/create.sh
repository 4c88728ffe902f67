#!/usr/bin/env bash
# install-create: `condabox create -p PREFIX python requests jq` from the
# realistic channel (internal/testchannel/realistic) served on loopback by
# `testchannel serve`, beside extracting the same packages.
#
# cold:  empty root prefix (no package cache, no repodata cache): solve,
#        download, verify, extract, link, compile .pyc, conda-meta
# warm:  package cache and repodata cache filled by an earlier create: a
#        revalidated index (304), solve, link, compile .pyc, conda-meta
# floor: `zstd -d` / `bzip2 -d` | `tar -x` of the environment's archives
#        (lib.sh's floor_one, xargs -P $(nproc)), as in extract.sh
# cph:   Debian's `cph x` of the same archives, xargs -P $(nproc)
#
# Env: BENCH_WORK (work dir, reused: the channel is built once, shared with
# extract.sh), BENCH_RUNS (default 5).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-$(mktemp -d)}
runs=${BENCH_RUNS:-5}
mkdir -p "$work"
jobs=$(nproc)
specs="python requests jq"
# shellcheck source=lib.sh
. "$repo/bench/install/lib.sh"

go build -o "$work/condabox" "$repo/cmd/condabox"
go build -o "$work/testchannel" "$repo/internal/testchannel/cmd/testchannel"
if [ ! -d "$work/chan/linux-64" ]; then
	echo "building the realistic channel in $work/chan (once; needs root and apt)"
	"$work/testchannel" --out "$work/chan" >/dev/null
fi

rm -f "$work/url"
"$work/testchannel" serve "$work/chan" --addr 127.0.0.1:0 >"$work/url" 2>/dev/null &
server=$!
trap 'kill "$server"' EXIT
until [ -s "$work/url" ]; do sleep 0.1; done
url=$(head -1 "$work/url")

# Keep the user's configuration out: HOME and the root prefix are ours.
export HOME=$work/home CONDARC= CONDA_PKGS_DIRS=
# shellcheck disable=SC2086 # $specs is a list
create() {
	MAMBA_ROOT_PREFIX=$1 "$work/condabox" create -y -p "$work/out/env" --override-channels -c "$url" $specs
}
export -f create
export work url specs

echo "# install-create: condabox create -p P $specs from the realistic channel on loopback, warm page cache"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $jobs cores, $(free -g | awk '/Mem:/{print $2}') GiB," \
	"$(. /etc/os-release && echo "$PRETTY_NAME"), commit $(git -C "$repo" rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"

rm -rf "$work/warm" "$work/out" && mkdir -p "$work/out"
create "$work/warm" >/dev/null 2>"$work/create.log" || { cat "$work/create.log"; exit 1; }
mapfile -t files < <(sed -n 's/^ *"fn": "\(.*\)",$/\1/p' "$work/out/env"/conda-meta/*.json | sed "s|^|$work/chan/*/|")
mapfile -t files < <(ls ${files[*]})
echo "## ${#files[@]} packages, $(du -cb "${files[@]}" | tail -1 | cut -f1) bytes of archives, $(du -sb "$work/out/env" | cut -f1) bytes installed"

BENCH_SETUP='rm -rf "$work/cold"' measure cold bash -c 'create "$work/cold" 2>/dev/null'
measure warm bash -c 'create "$work/warm" 2>/dev/null'
measure floor bash -c 'printf "%s\n" "${@:2}" | xargs -P "$1" -I{} bash -c "floor_one {} $0"' "$work/out" "$jobs" "${files[@]}"
measure cph bash -c 'printf "%s\n" "${@:2}" | xargs -P "$1" -I{} bash -c "cph_one {} $0"' "$work/out" "$jobs" "${files[@]}"
