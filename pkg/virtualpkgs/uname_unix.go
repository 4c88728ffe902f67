//go:build unix

package virtualpkgs

import "golang.org/x/sys/unix"

// uname returns the kernel release and the machine name.
func uname() (release, machine string, err error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", "", err
	}
	return unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:]), nil
}
