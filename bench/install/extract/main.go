// Command extract is the "ours" side of bench/install/extract.sh: it
// extracts the package archives named on the command line into -out with
// pkg/archive, -j at a time as an installer does, and prints the wall time,
// the CPU time and the bytes written.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/condabox/condabox/pkg/archive"
)

func main() {
	out := flag.String("out", "", "directory to extract into (one folder per package)")
	jobs := flag.Int("j", 0, "packages extracted at once (default: all; GOMAXPROCS bounds the CPU work)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: extract -out DIR [-j N] ARCHIVE...")
		os.Exit(2)
	}
	if err := run(*out, *jobs, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(out string, jobs int, files []string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if jobs <= 0 {
		jobs = len(files)
	}
	start, cpu0 := time.Now(), cpuTime()
	sem := make(chan struct{}, jobs)
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = archive.Extract(context.Background(), f, filepath.Join(out, archive.Dist(filepath.Base(f))))
		})
	}
	wg.Wait()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	var bytes int64
	filepath.WalkDir(out, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				bytes += info.Size()
			}
		}
		return nil
	})
	fmt.Printf("wall %.3fs cpu %.3fs  %d packages, %.1f MB written\n", wall.Seconds(), cpu.Seconds(), len(files), float64(bytes)/1e6)
	return nil
}

// cpuTime is the process's user + system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
