package repodata_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/repodata"
)

// A load returns the records of the names reachable from the specs:
// numpy and what it depends on, not the unrelated r-base.
func ExampleGateway_Load() {
	channel, err := os.MkdirTemp("", "channel-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(channel)
	record := func(subdir, name, version string, depends ...string) conda.PackageRecord {
		return conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0",
			Subdir: subdir, Depends: depends, FileName: name + "-" + version + "-0.conda"}
	}
	err = index.WriteChannel(channel, []conda.PackageRecord{
		record("linux-64", "numpy", "2.0.0", "python >=3.12", "__glibc >=2.17"),
		record("linux-64", "python", "3.12.1"),
		record("linux-64", "r-base", "4.4.0"),
		record("noarch", "tzdata", "2024b"),
	}, index.Options{})
	if err != nil {
		log.Fatal(err)
	}

	pkgs, err := os.MkdirTemp("", "pkgs-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(pkgs)
	g, err := repodata.New(repodata.Options{PkgsDir: pkgs, TTL: config.DefaultRepodataTTL})
	if err != nil {
		log.Fatal(err)
	}
	ch, err := conda.ParseChannel(channel, conda.ChannelConfig{})
	if err != nil {
		log.Fatal(err)
	}
	spec, err := conda.ParseMatchSpec("numpy >=1.26")
	if err != nil {
		log.Fatal(err)
	}
	ix, err := g.Load(context.Background(), []conda.Channel{ch}, []conda.Platform{conda.PlatformLinux64}, []conda.MatchSpec{spec})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range ix.Names() {
		for _, r := range ix.Records(name) {
			fmt.Println(r.Name, r.Version, r.FileName)
		}
	}
	// Output:
	// numpy 2.0.0 numpy-2.0.0-0.conda
	// python 3.12.1 python-3.12.1-0.conda
}
