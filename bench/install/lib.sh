# Shared by the install benchmarks: source it after setting $work and $runs.

# floor_one extracts one archive into $2/<archive name> with the
# command-line tools alone: the decompressors piped into tar -x.
floor_one() {
	local f=$1 d=$2/$(basename "$1")
	mkdir -p "$d"
	case $f in
	*.conda)
		for m in info pkg; do
			unzip -p "$f" "$m-*.tar.zst" | zstd -dcq | tar -x -C "$d"
		done ;;
	*.tar.bz2) bzip2 -dc "$f" | tar -x -C "$d" ;;
	esac
}
export -f floor_one

# cph_one extracts one archive into $2/<archive name> with Debian's cph:
# one folder each, as floor_one, since cph's parallel runs into one folder
# race on creating info/.
cph_one() {
	cph x "$1" --dest "$2/$(basename "$1")"
}
export -f cph_one

# measure NAME CMD... runs CMD $runs times into a fresh $work/out and
# prints the median run's wall and CPU time (user+sys, children included).
# $BENCH_SETUP, when set, is run (untimed) before each run.
measure() {
	local name=$1
	shift
	for _ in $(seq "$runs"); do
		rm -rf "$work/out" && mkdir -p "$work/out"
		if [ -n "${BENCH_SETUP:-}" ]; then eval "$BENCH_SETUP"; fi
		/usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >/dev/null
		awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$work/time"
	done | sort -n | sed -n "$(((runs + 1) / 2))p" |
		awk -v n="$name" -v r="$runs" '{printf "%-6s wall %6.2fs  cpu %6.2fs  (median of %d)\n", n, $1, $2, r}'
}
