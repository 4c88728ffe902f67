# Sourced by interactive bash shells of condabox's base image, as
# micromamba-docker's _activate_current_env.sh: it defines the condabox shell
# function (condabox activate OTHER works, and micromamba activate OTHER) and
# activates ENV_NAME's environment, unless MAMBA_SKIP_ACTIVATE=1.
# /etc/bash.bashrc sources it for every user, any uid included; ~/.bashrc
# sources it again after setting its own PS1, so the second time it only
# puts the environment's name back in front of the prompt.
if [ -n "${__condabox_shell_ready-}" ]; then
	case $PS1 in
	"${CONDA_PROMPT_MODIFIER-}"*) ;;
	*) PS1="${CONDA_PROMPT_MODIFIER-}$PS1" ;;
	esac
	return
fi
__condabox_shell_ready=1
eval "$(/usr/local/bin/condabox shell hook -s bash)"
# micromamba activate NAME, as in mambaorg/micromamba images.
micromamba() { condabox "$@"; }
if [ "${MAMBA_SKIP_ACTIVATE:-0}" != 1 ]; then
	condabox activate "${ENV_NAME:-base}"
fi
