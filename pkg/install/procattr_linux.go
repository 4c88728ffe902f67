package install

import (
	"os/exec"
	"runtime"
	"syscall"
)

// runChild runs cmd so that it dies with this process: a kill -9 of the
// installer must not leave a compileall or link script running that
// writes into the prefix after the next command recovered it. The
// parent-death signal is tied to the starting thread, hence the lock.
func runChild(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd.Run()
}
