#!/bin/sh
# micromamba-docker's entrypoint path, for Dockerfiles that name it
# (ENTRYPOINT ["/usr/local/bin/_entrypoint.sh", ...]): condabox entrypoint
# runs the command in ENV_NAME's environment.
exec /usr/local/bin/condabox entrypoint "$@"
