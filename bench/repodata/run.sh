#!/usr/bin/env bash
# repodata-load: cold-cache load of the closure of `python numpy pandas scipy`
# by the repodata gateway (pkg/repodata) from the synthetic conda-forge-scale
# index (internal/testchannel/synthetic: linux-64 + noarch, ~508,000 records,
# 272 MB linux-64 repodata.json) served on loopback by the test channel
# server, in three modes: full repodata.json, repodata.json.zst and CEP-16
# shards. Every run is a fresh process with an empty cache, so peak RSS
# (VmHWM) is the load's own. Also measured: CPU time (on a shared machine
# it is steadier than wall time) and bytes transferred; then warm loads
# (index cached, revalidated with the server).
#
# Floor: fetching the files with curl (what any client must at least
# receive) and `zstd -dc` of the .zst (decompression alone).
# Peer: rattler-js (see below); micromamba is not scripted.
#
# The channel is written and served by the testchannel CLI, as for the tests:
# `testchannel --synthetic N` (both sections of repodata.json, so a package
# published as .tar.bz2 and .conda is there twice, as on conda-forge) and
# `testchannel serve`.
#
# Env: BENCH_WORK (work dir, reused: the index is generated once, ~2 min),
# BENCH_RUNS (default 5), BENCH_NAMES (package names, default 36000 as
# synthetic.DefaultNames), BENCH_RATTLER_JS (peer, optional).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-$(mktemp -d)}
runs=${BENCH_RUNS:-5}
names=${BENCH_NAMES:-36000}
mkdir -p "$work"

go build -o "$work/repodata" "$repo/bench/repodata"
go build -o "$work/testchannel" "$repo/internal/testchannel/cmd/testchannel"
if [ ! -f "$work/chan/linux-64/repodata_shards.msgpack.zst" ]; then
	echo "generating the synthetic index in $work/chan (once)"
	"$work/testchannel" --synthetic "$names" --out "$work/chan"
fi

rm -f "$work/url" # the server's redirection happens in the background
# The server logs a line per request: kept in a file, shown if it fails.
"$work/testchannel" serve --addr 127.0.0.1:0 "$work/chan" >"$work/url" 2>"$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 300); do [ -s "$work/url" ] && break; sleep 0.1; done
[ -s "$work/url" ] || { echo "server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
url=$(head -1 "$work/url")

echo "# repodata-load: closure of python numpy pandas scipy, synthetic index, loopback, cold repodata cache, warm page cache"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB," \
	"$(. /etc/os-release && echo "$PRETTY_NAME"), commit $(git -C "$repo" rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# median prints the line of median wall time among its input lines.
median() { sort -k2 -n | sed -n "$(((runs + 1) / 2))p"; }

for mode in json zst shards; do
	cmd=("$work/repodata" load -url "$url" -mode "$mode")
	"${cmd[@]}" >/dev/null # warm-up: page cache, server
	for _ in $(seq "$runs"); do "${cmd[@]}"; done | median | sed "s|^|ours   |; s|\$|  median of $runs  ${cmd[*]}|"
done

# Warm: the cache holds the index; the gateway revalidates (TTL 0: a 304,
# no body) and reads the saved name index instead of scanning again.
for mode in json shards; do
	cmd=("$work/repodata" load -url "$url" -mode "$mode" -pkgs "$work/warm-$mode")
	rm -rf "$work/warm-$mode"
	"${cmd[@]}" >/dev/null # fills the cache
	for _ in $(seq "$runs"); do "${cmd[@]}"; done | median | sed "s|^|ours   warm |; s|\$|  median of $runs  ${cmd[*]}|"
done

# Peer: rattler (pixi's library) compiled to WebAssembly, ../shared/peers/rattler-js
# after `npm install` in a writable copy given as BENCH_RATTLER_JS. It reads
# the channel from disk (no HTTP, no cache) and also solves, so it does more
# than a load: an upper bound for its loader.
peer_dir=${BENCH_RATTLER_JS:-}
if [ -n "$peer_dir" ] && [ -d "$peer_dir/node_modules" ] && command -v node >/dev/null; then
	cmd=(node "$peer_dir/solve.mjs" -c "$work/chan" -p linux-64 -V __glibc=2.36,__unix,__linux=6.1,__archspec=1=x86_64 python numpy pandas scipy)
	for _ in $(seq "$runs"); do
		/usr/bin/time -f "%e %M" "${cmd[@]}" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n "$(((runs + 1) / 2))p" |
		awk -v c="${cmd[*]}" -v r="$runs" '{printf "peer   rattler-js load+solve from disk  %.2f s  rss %d MB  median of %d  %s\n", $1, $2/1024, r, c}'
else
	echo "peer   n/a  (set BENCH_RATTLER_JS to a copy of ../shared/peers/rattler-js after npm install)"
fi
if ! command -v micromamba >/dev/null; then
	echo "peer   n/a  (micromamba not found)"
fi

floor() { # name, command...
	local best="" t
	for _ in $(seq "$runs"); do
		t=$( { /usr/bin/time -f %e "${@:2}" >/dev/null; } 2>&1 | tail -1)
		best="$best$t"$'\n'
	done
	echo "floor  $1  $(printf %s "$best" | sort -n | sed -n "$(((runs + 1) / 2))p") s  median of $runs  ${*:2}"
}
floor "fetch json" sh -c "curl -s -o /dev/null $url/linux-64/repodata.json && curl -s -o /dev/null $url/noarch/repodata.json"
floor "fetch zst " sh -c "curl -s -o /dev/null $url/linux-64/repodata.json.zst && curl -s -o /dev/null $url/noarch/repodata.json.zst"
floor "unzstd   " zstd -dc "$work/chan/linux-64/repodata.json.zst"
