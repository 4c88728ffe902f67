//go:build !linux

package image

// canExecIn is false off Linux: packageDirs then uses the work folder.
func canExecIn(string) bool { return false }
