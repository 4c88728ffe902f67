# condabox developer targets. The shared test data and peers live beside the
# checkout, in ../shared.
GO ?= go
SHARED ?= ../shared

.PHONY: test crosscheck

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
