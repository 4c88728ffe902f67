// Command testchannel builds and serves condabox's test channels:
//
//	testchannel --out DIR                           the realistic channel (Debian binaries + edge cases)
//	testchannel --synthetic N --out DIR [--seed S]  a conda-forge-scale index of N package names
//	testchannel serve DIR [--addr A] [--token T] [--user U:P]
//
// See docs/testing.md for what each fixture exercises.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Interrupt cancels the context: builds stop, serve shuts down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "testchannel: error:", err)
		stop()
		os.Exit(1)
	}
}
