package virtualpkgs

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// nvidiaDriver finds the driver version in /proc/driver/nvidia/version, in
// both the proprietary ("NVIDIA UNIX x86_64 Kernel Module  535.104.05  …")
// and the open ("NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  …")
// module's wording.
var nvidiaDriver = regexp.MustCompile(`Kernel Module.*?\s(\d+\.\d+(?:\.\d+)?)\s`)

// cudaVersion returns the newest CUDA version the machine's NVIDIA driver
// supports, as conda's __cuda reports it, or "" without a usable driver:
// conda asks libcuda (cuDriverGetVersion), which needs cgo; condabox reads
// the loaded kernel module's version and maps it with cudaDrivers. Like
// conda it requires libcuda.so.1 to be present, since without it no CUDA
// program runs. A version file it cannot read or understand counts as no
// driver; CONDA_OVERRIDE_CUDA sets the version by hand.
func cudaVersion(root fs.FS) string {
	data, err := fs.ReadFile(root, "proc/driver/nvidia/version")
	if err != nil {
		return ""
	}
	m := nvidiaDriver.FindSubmatch(data)
	if m == nil || len(findLib(root, "libcuda.so.1")) == 0 {
		return ""
	}
	return cudaForDriver(string(m[1]))
}

// cudaDrivers lists, newest first, the oldest Linux driver of each CUDA
// release, from the table "CUDA Toolkit and Corresponding Driver Versions"
// of NVIDIA's CUDA release notes. A driver newer than the table knows
// reports the newest CUDA listed, which may under-state it.
var cudaDrivers = []struct{ cuda, driver string }{
	{"13.0", "580.65.06"},
	{"12.9", "575.51.03"},
	{"12.8", "570.26"},
	{"12.6", "560.28.03"},
	{"12.5", "555.42.02"},
	{"12.4", "550.54.14"},
	{"12.3", "545.23.06"},
	{"12.2", "535.54.03"},
	{"12.1", "530.30.02"},
	{"12.0", "525.60.13"},
	{"11.8", "520.61.05"},
	{"11.7", "515.43.04"},
	{"11.6", "510.39.01"},
	{"11.5", "495.29.05"},
	{"11.4", "470.42.01"},
	{"11.3", "465.19.01"},
	{"11.2", "460.27.03"},
	{"11.1", "455.23"},
	{"11.0", "450.36.06"},
	{"10.2", "440.33"},
	{"10.1", "418.39"},
	{"10.0", "410.48"},
	{"9.2", "396.26"},
	{"9.1", "390.46"},
	{"9.0", "384.81"},
	{"8.0", "367.48"},
}

// cudaForDriver returns the newest CUDA a driver version supports, or ""
// for a driver older than CUDA 8.
func cudaForDriver(driver string) string {
	for _, d := range cudaDrivers {
		if compareDotted(driver, d.driver) >= 0 {
			return d.cuda
		}
	}
	return ""
}

// compareDotted compares dotted numeric versions such as driver versions
// component by component; a missing component counts as 0.
func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := component(as, i), component(bs, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func component(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i]) // digits only: nvidiaDriver matched them
	return n
}
