// Command repodata benchmarks the repodata gateway (pkg/repodata) on the
// synthetic conda-forge-sized channel. run.sh drives it; see there. The
// channel is written and served by the testchannel CLI
// (internal/testchannel/cmd/testchannel --synthetic, serve), so the bench
// loads the same channel the tests and other benchmarks use.
//
//	repodata load -url URL -mode M    cold-cache load of the closure of python numpy pandas scipy;
//	                                  M is json, zst or shards; prints one result line
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/repodata"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "load" {
		fmt.Fprintln(os.Stderr, "usage: repodata load [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := load(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "repodata:", err)
		os.Exit(1)
	}
}

// load measures one cold load in this fresh process and prints one line:
// mode, wall and CPU time of the load, peak RSS of the process, body bytes
// received, requests, and the names and records loaded.
func load(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	url := fs.String("url", "", "channel URL")
	mode := fs.String("mode", "json", "json, zst or shards")
	pkgs := fs.String("pkgs", "", "package cache (empty: a new temporary one, so the load is cold)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the load to this file")
	fs.Parse(args)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	opts := repodata.Options{PkgsDir: *pkgs}
	switch *mode {
	case "json":
		opts.DisableShards, opts.DisableZst = true, true
	case "zst":
		opts.DisableShards = true
	case "shards":
	default:
		return fmt.Errorf("unknown mode %q", *mode)
	}
	if opts.PkgsDir == "" {
		tmp, err := os.MkdirTemp("", "repodata-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		opts.PkgsDir = tmp
	}
	ch, err := conda.ParseChannel(*url, conda.ChannelConfig{})
	if err != nil {
		return err
	}
	var specs []conda.MatchSpec
	for _, s := range []string{"python", "numpy", "pandas", "scipy"} {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			return err
		}
		specs = append(specs, m)
	}
	g, err := repodata.New(opts)
	if err != nil {
		return err
	}
	start, cpuStart := time.Now(), cpuTime()
	ix, err := g.Load(ctx, []conda.Channel{ch}, []conda.Platform{conda.PlatformLinux64}, specs)
	elapsed, cpu := time.Since(start), cpuTime()-cpuStart
	if err != nil {
		return err
	}
	records := 0
	for _, n := range ix.Names() {
		records += len(ix.Records(n))
	}
	st := g.Stats()
	fmt.Printf("%-6s  %.3f s  cpu %.3f s  rss %s  transferred %.1f MB  requests %d  names %d  records %d\n",
		*mode, elapsed.Seconds(), cpu.Seconds(), peakRSS(), float64(st.BodyBytes)/1e6, st.Requests, len(ix.Names()), records)
	return nil
}

// cpuTime returns the user + system CPU time of this process so far; on a
// shared machine it says what a load costs better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS returns VmHWM from /proc/self/status: the peak resident set.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return fmt.Sprintf("%d MB", kb/1024)
		}
	}
	return "n/a"
}
