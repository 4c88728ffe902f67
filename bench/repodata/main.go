// Command repodata benchmarks the repodata gateway (pkg/repodata) on the
// synthetic conda-forge-sized channel. run.sh drives it; see there.
//
//	repodata gen   -out DIR            write the synthetic linux-64 + noarch index (JSON, zst, shards)
//	repodata serve -dir DIR -addr A    serve DIR on loopback until killed
//	repodata load  -url URL -mode M    cold-cache load of the closure of python numpy pandas scipy;
//	                                   M is json, zst or shards; prints one result line
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testchannel/synthetic"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/repodata"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: repodata gen|serve|load [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "gen":
		err = gen(args)
	case "serve":
		err = serve(ctx, args)
	case "load":
		err = load(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "repodata:", err)
		os.Exit(1)
	}
}

// gen writes the synthetic channel: Generate gives repodata.json, which is
// decoded and written again by index.Write to add the .zst and the shards.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "channel directory to write")
	names := fs.Int("names", 0, "package names (0: synthetic.DefaultNames)")
	fs.Parse(args)
	if *out == "" {
		return errors.New("gen: -out is required")
	}
	for _, subdir := range synthetic.Subdirs {
		dir := filepath.Join(*out, subdir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(dir, index.RepodataFile)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		err = synthetic.Generate(w, subdir, synthetic.Options{Seed: 1, Names: *names})
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("generate %s: %w", subdir, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rd, err := conda.ParseRepoData(data)
		if err != nil {
			return fmt.Errorf("parse generated %s: %w", path, err)
		}
		recs := rd.Records()
		for i := range recs {
			recs[i].Subdir = subdir
		}
		if err := index.Write(*out, subdir, recs, index.Options{}); err != nil {
			return err
		}
		fmt.Printf("%s: %d records\n", subdir, len(recs))
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	dir := fs.String("dir", "", "channel directory")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	s, err := server.Start(ctx, *dir, server.Options{Addr: *addr})
	if err != nil {
		return err
	}
	fmt.Println(s.URL())
	<-ctx.Done()
	return s.Close()
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
