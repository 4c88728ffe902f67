# condabox developer targets. The shared test data and peers live beside the
# checkout, in ../shared.
GO ?= go
SHARED ?= ../shared

.PHONY: test crosscheck build

# build writes the release binary: static (CGO_ENABLED=0: it goes into base
# images and is the entrypoint shim of images of several environments),
# without the symbol and DWARF tables (-s -w: 20 MB -> 14 MB, 10.6 -> 5.5 MB
# gzipped) and without the build machine's paths (-trimpath).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o build/condabox ./cmd/condabox

# test vets and runs every package's tests.
test:
	$(GO) vet ./...
	$(GO) test ./...

# crosscheck compares the solver with rattler's (resolvo, via rattler-js):
# it installs a copy of $(SHARED)/peers/rattler-js in a temporary folder and
# runs pkg/solve's cross-check tests against it.
crosscheck:
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	cp -R $(SHARED)/peers/rattler-js/. "$$dir"/; \
	(cd "$$dir" && npm install --no-audit --no-fund --loglevel=error); \
	CONDABOX_CROSSCHECK="$$dir" $(GO) test ./pkg/solve -run Crosscheck -count=1 -v -timeout 30m

# quickstart builds an image from examples/quickstart/env.yml fully offline
# (a local copy of the realistic test channel stands in for conda-forge, the
# base is a Debian 12 minbase made with mmdebstrap) and prints how to run it.
# Needs root and Debian's apt, mmdebstrap, dpkg-deb, patchelf and gcc.
QUICKSTART_OUT ?= build/quickstart
.PHONY: quickstart
quickstart:
	$(GO) run ./examples/quickstart -f examples/quickstart/env.yml -out $(QUICKSTART_OUT)
