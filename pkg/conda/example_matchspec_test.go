package conda_test

import (
	"fmt"

	"github.com/condabox/condabox/pkg/conda"
)

func ExampleParseMatchSpec() {
	m, err := conda.ParseMatchSpec("conda-forge/linux-64::numpy >=1.21,<2 py312*")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Channel, m.Subdir, m.Name, m.Version, m.Build)
	fmt.Println(m)

	r := &conda.PackageRecord{Name: "numpy", Version: conda.MustParseVersion("1.26.4"), Build: "py312h8753938_0", Subdir: "linux-64"}
	fmt.Println(m.Matches(r))
	// Output:
	// conda-forge linux-64 numpy >=1.21,<2 py312*
	// conda-forge/linux-64::numpy[version='>=1.21,<2',build=py312*]
	// true
}

// A bare version after a space is exact; after '=' it is a prefix.
func ExampleParseMatchSpec_fuzzy() {
	for _, s := range []string{"numpy 1.11", "numpy=1.11", "numpy==1.11", "numpy=1.11=py39_0"} {
		m, _ := conda.ParseMatchSpec(s)
		fmt.Printf("%-18s version %-7s matches 1.11.18: %v\n", s, m.Version,
			m.Matches(&conda.PackageRecord{Name: "numpy", Version: conda.MustParseVersion("1.11.18"), Build: "py39_0"}))
	}
	// Output:
	// numpy 1.11         version 1.11    matches 1.11.18: false
	// numpy=1.11         version 1.11.*  matches 1.11.18: true
	// numpy==1.11        version 1.11    matches 1.11.18: false
	// numpy=1.11=py39_0  version 1.11    matches 1.11.18: false
}

func ExampleParseStringMatcher() {
	for _, p := range []string{"py39_0", "py3*", "^py3[0-9]_0$"} {
		m, _ := conda.ParseStringMatcher(p)
		fmt.Println(p, m.Matches("py39_0"), m.Matches("py310_0"))
	}
	// Output:
	// py39_0 true false
	// py3* true true
	// ^py3[0-9]_0$ true false
}
