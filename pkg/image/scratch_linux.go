package image

import "golang.org/x/sys/unix"

// canExecIn reports whether programs can run from files in dir: not on a
// file system mounted noexec, as hardened hosts mount /dev/shm.
func canExecIn(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Flags&unix.ST_NOEXEC == 0
}
