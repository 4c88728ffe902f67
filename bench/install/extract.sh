#!/usr/bin/env bash
# install-extract: extraction of every package of the realistic channel
# (internal/testchannel/realistic: python, openssl, curl, jq ... 42 packages,
# ~48 MB extracted) into a package cache, per archive format, all packages
# at once as an installer does.
#
# ours:  pkg/archive via bench/install/extract (checked, streaming, .conda
#        tarballs decoded concurrently, .tar.bz2 with the parallel decoder)
# floor: `zstd -d` / `bzip2 -d` of every payload piped into `tar -x`
#        (xargs -P $(nproc), so the floor gets the same parallelism)
# peer:  Debian's `cph x` (conda-package-handling), also xargs -P $(nproc)
#
# Prints wall time and CPU time (user+sys, children included) of the median
# run by wall time. On a shared machine CPU time is the steadier figure.
# Env: BENCH_WORK (work dir, reused: the channel is built once),
# BENCH_RUNS (default 5).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-$(mktemp -d)}
runs=${BENCH_RUNS:-5}
mkdir -p "$work"
jobs=$(nproc)

go build -o "$work/extract" "$repo/bench/install/extract"
if [ ! -d "$work/chan/linux-64" ]; then
	echo "building the realistic channel in $work/chan (once; needs root and apt)"
	go run "$repo/internal/testchannel/cmd/testchannel" --out "$work/chan" >/dev/null
fi

echo "# install-extract: all packages of the realistic channel at once, warm page cache"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $jobs cores, $(free -g | awk '/Mem:/{print $2}') GiB," \
	"$(. /etc/os-release && echo "$PRETTY_NAME"), commit $(git -C "$repo" rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck source=lib.sh
. "$repo/bench/install/lib.sh"

for ext in conda tar.bz2; do
	files=("$work"/chan/*/*."$ext")
	echo "## .$ext: ${#files[@]} packages, $(du -cb "${files[@]}" | tail -1 | cut -f1) bytes of archives"
	measure ours "$work/extract" -out "$work/out" "${files[@]}"
	measure floor bash -c 'printf "%s\n" "${@:2}" | xargs -P "$1" -I{} bash -c "floor_one {} $0"' "$work/out" "$jobs" "${files[@]}"
	measure cph bash -c 'printf "%s\n" "${@:2}" | xargs -P "$1" -I{} bash -c "cph_one {} $0"' "$work/out" "$jobs" "${files[@]}"
done
