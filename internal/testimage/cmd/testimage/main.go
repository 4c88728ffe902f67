// Command testimage builds internal/testimage's Debian bases for the
// benchmark scripts:
//
//	testimage tarball BASE       print the root file system's tarball path
//	testimage push BASE REF      push the base image to a registry
//	testimage podman-conf        write podman's configuration for these
//	                             machines (testimage.ContainersConf; root)
//
// BASE is minbase, slim or distroless. Both build the base on first use
// (root, mmdebstrap); the tools' output goes to standard error.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/condabox/condabox/internal/testimage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 1 && args[0] == "podman-conf" {
		return testimage.WriteContainersConf()
	}
	if len(args) < 2 {
		return fmt.Errorf("usage: testimage tarball BASE | testimage push BASE REF | testimage podman-conf (BASE: %s)", baseNames())
	}
	base, ok := testimage.Bases[args[1]]
	if !ok {
		return fmt.Errorf("base %q: unknown, want one of %s", args[1], baseNames())
	}
	switch {
	case args[0] == "tarball" && len(args) == 2:
		path, err := base.Build(ctx, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Println(path)
		return nil
	case args[0] == "push" && len(args) == 3:
		ref, err := name.ParseReference(args[2])
		if err != nil {
			return fmt.Errorf("push %s: %w", args[2], err)
		}
		img, err := base.Image(ctx, os.Stderr)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("push %s to %s: %w", base.Name, ref, err)
		}
		return nil
	}
	return fmt.Errorf("%q: want tarball BASE or push BASE REF", strings.Join(args, " "))
}

// baseNames lists the bases' names, sorted.
func baseNames() string {
	var names []string
	for n := range testimage.Bases {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
