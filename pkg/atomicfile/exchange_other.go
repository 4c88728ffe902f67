//go:build !linux

package atomicfile

import "errors"

// exchange is not atomic off Linux: ReplaceDir then renames twice.
var exchange = func(a, b string) error { return errors.New("no atomic exchange on this system") }
