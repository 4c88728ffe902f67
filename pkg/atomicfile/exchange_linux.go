package atomicfile

import "golang.org/x/sys/unix"

// exchange swaps the two paths in one step (renameat2 RENAME_EXCHANGE);
// it fails where the file system does not support it. A variable for
// tests of the fallback.
var exchange = func(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
