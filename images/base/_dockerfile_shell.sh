#!/bin/bash
# The SHELL of condabox's base image, as micromamba-docker's: it runs a
# Dockerfile RUN line with bash -o pipefail -c, in the environment ENV_NAME
# names when MAMBA_DOCKERFILE_ACTIVATE=1 (condabox shell-activate, which
# also honours MAMBA_SKIP_ACTIVATE), with umask DOCKERFILE_UMASK when set.
if [ "${MAMBA_DOCKERFILE_ACTIVATE:-0}" = 1 ]; then
	activation=$(/usr/local/bin/condabox shell-activate) || exit
	eval "$activation"
fi
if [ -n "${DOCKERFILE_UMASK:-}" ]; then
	umask "$DOCKERFILE_UMASK" || exit
fi
exec /bin/bash -o pipefail -c "$@"
