// Package env reads the files that describe a conda environment and plans
// environments from them:
//
//   - environment.yml files (ParseEnvironmentFile) and plain spec lists
//     (ParseSpecList): the specs to solve, with channels, variables and a
//     pip: list for pip;
//   - lock files (ParseLock): conda-lock (versions 1–3, YAML), pixi
//     (versions 4–7, YAML; source packages are rejected) and mambajs
//     (lockVersion 1.0.x, JSON), which list the exact packages of an
//     environment per platform;
//   - @EXPLICIT files (ParseExplicit): one package URL per line, as written
//     by `conda list --explicit` and `conda-lock render`.
//
// Every parser takes the file's name (for error messages) and its bytes;
// ReadFile reads a file from disk and picks the parser as micromamba's -f
// does. Records come back as conda.PackageRecord with URL, FileName,
// Channel, Subdir and the checksums set, so that they can be installed or
// solved without the channel's index.
//
// SolveLock solves environment files per platform for `condabox lock`,
// MarshalCondaLock writes the result as a conda-lock (version 1) file and
// CheckLock compares a lock's content hashes with its inputs, or, for a
// lock another tool wrote, its packages.
//
// PlanCreate turns what `condabox create` is asked into the records to
// install (config, channels, virtual packages, repodata, solve), and
// Plan.WriteJSON prints them as micromamba's --json output does. Apply
// carries out `condabox create|install|remove`: it plans against the
// prefix's installed packages, downloads what the package cache lacks (with
// the channel credentials that records do not carry) and links the result
// as one pkg/install transaction. Then it hands the environment files' pip:
// sections and a lock's pip packages to the environment's own pip
// (pip.go); ReadInstalled lists what pip installed beside the conda
// packages (pipinstalled.go).
//
// ActivatedEnv and Command are activation for `condabox run`: PATH,
// CONDA_PREFIX and the env_vars of packages and conda-meta/state;
// ParseEnvVars is shared with pkg/image, which bakes the same variables into
// image configs. Shell activation for `condabox shell` (shell.go): Hook
// prints the shell function, ShellActivate, ShellDeactivate and
// ShellReactivate the code that function evaluates (conda's activation
// stack), InitBlock and WriteInitBlock the rc-file block of `shell init`.
// Entrypoint, DockerfileShell and ActivationScript activate in containers.
//
// Installed environments: ReadInstalled reads a prefix's conda-meta for
// `condabox list` and `env export` (export.go writes environment.yml and
// @EXPLICIT files), KnownEnvironments lists them for `env list`, and
// EnvironmentPrefix is the environment a command without -n/-p acts on;
// ReadInfo is `condabox info`'s report and Search `condabox search`'s.
package env
