package image

import (
	"os/exec"

	"golang.org/x/sys/unix"
)

// canExecIn reports whether programs can run from files in dir: not on a
// file system mounted noexec, as hardened hosts mount /dev/shm.
func canExecIn(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Flags&unix.ST_NOEXEC == 0
}

// ownProcessGroup runs cmd in a process group of its own, which cancelling
// its context kills whole: the compile server and the children it forked.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
}
