package conda_test

import (
	"fmt"

	"github.com/condabox/condabox/pkg/conda"
)

func ExampleParseChannel() {
	for _, s := range []string{
		"conda-forge",
		"conda-forge/label/dev",
		"https://conda.anaconda.org/t/tk-1234/conda-forge/linux-64",
		"https://user:pass@repo.example.com/internal",
		"./local-channel",
	} {
		c, err := conda.ParseChannel(s, conda.ChannelConfig{WorkDir: "/home/me/project"})
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s | %s | %q\n", c.Name(), c, c.Platform())
	}
	// Output:
	// conda-forge | https://conda.anaconda.org/conda-forge | ""
	// conda-forge/label/dev | https://conda.anaconda.org/conda-forge/label/dev | ""
	// conda-forge | https://conda.anaconda.org/t/<TOKEN>/conda-forge/linux-64 | "linux-64"
	// https://repo.example.com/internal | https://user:********@repo.example.com/internal | ""
	// file:///home/me/project/local-channel | file:///home/me/project/local-channel | ""
}

func ExampleChannel_SubdirURL() {
	c, _ := conda.ParseChannel("conda-forge", conda.ChannelConfig{ChannelAlias: "https://conda.anaconda.org/t/tk-1234"})
	// The request URL carries the token; what is shown does not.
	fmt.Println(c.SubdirURL(conda.PlatformNoArch) + "repodata.json")
	fmt.Println(c)
	fmt.Println(c.RecordChannel(conda.PlatformNoArch))
	// Output:
	// https://conda.anaconda.org/t/tk-1234/conda-forge/noarch/repodata.json
	// https://conda.anaconda.org/t/<TOKEN>/conda-forge
	// https://conda.anaconda.org/conda-forge/noarch
}

func ExampleChannelMatches() {
	// How "conda-forge::numpy" decides whether an installed record qualifies.
	for _, recordChannel := range []string{
		"conda-forge",
		"https://conda.anaconda.org/conda-forge/linux-64",
		"https://conda.anaconda.org/bioconda/noarch",
	} {
		ok, _ := conda.ChannelMatches("conda-forge", recordChannel, conda.ChannelConfig{})
		fmt.Println(recordChannel, ok)
	}
	// Output:
	// conda-forge true
	// https://conda.anaconda.org/conda-forge/linux-64 true
	// https://conda.anaconda.org/bioconda/noarch false
}

func ExampleParseOCIPlatform() {
	p, _ := conda.ParseOCIPlatform("linux/arm64")
	oci, _ := conda.PlatformLinux64.OCI()
	fmt.Println(p, p.OS(), p.Arch())
	fmt.Println(oci)
	// Output:
	// linux-aarch64 linux aarch64
	// linux/amd64
}

func ExampleVirtualPackages() {
	info := conda.SystemInfo{OS: "linux", Arch: "x86_64", KernelRelease: "6.1.0-18-amd64", LibcFamily: "glibc", LibcVersion: "2.36"}
	overrides := map[string]string{"CONDA_OVERRIDE_CUDA": "12.4", "CONDA_OVERRIDE_GLIBC": ""}
	pkgs, _ := conda.VirtualPackages(info, func(k string) (string, bool) { v, ok := overrides[k]; return v, ok })
	for _, p := range pkgs {
		fmt.Println(p)
	}
	// Output:
	// __archspec=1=x86_64
	// __cuda=12.4=0
	// __linux=6.1.0=0
	// __unix=0=0
}

func ExampleTargetSystemInfo() {
	// Solving for an arm64 image on an amd64 builder.
	info, _ := conda.TargetSystemInfo(conda.PlatformLinuxAarch64)
	pkgs, _ := conda.VirtualPackages(info, nil)
	fmt.Println(pkgs)
	// Output:
	// [__archspec=1=aarch64 __glibc=2.28=0 __linux=4.18=0 __unix=0=0]
}
