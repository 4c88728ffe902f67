# Shared by the image benchmarks: source it from the repository root after
# setting $B (work folder), $CH_PORT (channel) and $REG_PORT (registry).

# start_fixtures builds condabox, testchannel and testimage into $B, writes
# the realistic channel once, serves it on 127.0.0.1:$CH_PORT, runs a fresh
# docker-registry on 127.0.0.1:$REG_PORT until the script exits and imports
# internal/testimage's Debian minbase into podman as localhost/bookworm-minbase
# (testimage builds the bases on first use: root, mmdebstrap).
start_fixtures() {
	mkdir -p "$B"
	# As `make build`: static (it also goes into the peer's base image, as
	# micromamba's static binary does) and stripped.
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$B/condabox" ./cmd/condabox
	go build -o "$B/testchannel" ./internal/testchannel/cmd/testchannel
	go build -o "$B/testimage" ./internal/testimage/cmd/testimage
	# runc, cgroupfs and lower ulimits, as the tests set podman up: crun and
	# the default ulimits fail on these machines.
	"$B/testimage" podman-conf
	# Always rewritten (about 2 s from the cache): a channel of an older
	# recipe must not be measured.
	rm -rf "$B/ch"
	"$B/testchannel" --out "$B/ch" --format conda --cache /tmp/condabox-realistic-test-cache >/dev/null 2>&1
	"$B/testchannel" serve "$B/ch" --addr "127.0.0.1:$CH_PORT" >/dev/null 2>"$B/serve.log" &
	SERVE=$!
	rm -rf "$B/reg" && mkdir -p "$B/reg"
	cat >"$B/reg.yml" <<EOC
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $B/reg}}
http: {addr: 127.0.0.1:$REG_PORT, secret: x}
EOC
	/usr/bin/docker-registry serve "$B/reg.yml" >"$B/reg.log" 2>&1 &
	REG=$!
	trap 'kill $SERVE $REG' EXIT
	sleep 1
	podman image exists localhost/bookworm-minbase ||
		podman import "$("$B/testimage" tarball minbase)" localhost/bookworm-minbase >/dev/null
}

# env_yml VERSION writes $B/env.yml: python requests jq and edge-versions
# =VERSION, the package a one-package rebuild changes.
env_yml() {
	printf 'channels: [http://127.0.0.1:%s]\ndependencies: [python, requests, jq, edge-versions =%s]\n' "$CH_PORT" "$1" >"$B/env.yml"
}

# elapsed CMD... runs CMD with its output in $B/out.json (stderr appended to
# $B/stderr.log) and prints its wall time in seconds.
elapsed() {
	local t0 t1
	# Each timed step starts with the disk settled: the previous step's
	# writes (podman's commit, a removed cache on this discard-mounted
	# ext4) must not slow the next one down.
	sync
	sleep 1
	t0=$(date +%s.%N)
	"$@" >"$B/out.json" 2>>"$B/stderr.log" || { tail "$B/stderr.log" >&2; return 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
