// Package env reads the files that describe a conda environment:
//
//   - environment.yml files (ParseEnvironmentFile): the specs to solve, with
//     channels, variables and a pip: list kept aside;
//   - lock files (ParseLock): conda-lock (versions 1–3, YAML), pixi
//     (versions 4–7, YAML) and mambajs (lockVersion 1.0.x, JSON), which list
//     the exact packages of an environment per platform;
//   - @EXPLICIT files (ParseExplicit): one package URL per line, as written
//     by `conda list --explicit` and `conda-lock render`.
//
// Every parser takes the file's name (for error messages) and its bytes;
// ReadFile reads a file from disk and picks the parser. Records come back
// as conda.PackageRecord with URL, FileName, Channel, Subdir and the
// checksums set, so that they can be installed or solved without the
// channel's index.
package env
