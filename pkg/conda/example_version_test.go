package conda_test

import (
	"fmt"
	"slices"

	"github.com/condabox/condabox/pkg/conda"
)

func ExampleParseVersion() {
	var vs []conda.Version
	for _, s := range []string{"1.10", "1.1.post1", "1.1", "1.1rc1", "1.1.dev1", "1!0.1", "1.9"} {
		v, err := conda.ParseVersion(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		vs = append(vs, v)
	}
	slices.SortFunc(vs, conda.Version.Compare)
	fmt.Println(vs)
	fmt.Println(conda.MustParseVersion("1.0").Equal(conda.MustParseVersion("1.0.0")))

	_, err := conda.ParseVersion("1..2")
	fmt.Println(err)
	// Output:
	// [1.1rc1 1.1.dev1 1.1 1.1.post1 1.9 1.10 1!0.1]
	// true
	// parse version "1..2": empty version component at offset 2
}

func ExampleParseVersionSpec() {
	spec, err := conda.ParseVersionSpec(">=1.2, <2 | 3.1.*")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec)
	for _, s := range []string{"1.1", "1.2", "1.9.9", "2.0", "3.1.4", "3.10"} {
		fmt.Println(s, spec.Matches(conda.MustParseVersion(s)))
	}
	// Output:
	// (>=1.2,<2)|3.1.*
	// 1.1 false
	// 1.2 true
	// 1.9.9 true
	// 2.0 false
	// 3.1.4 true
	// 3.10 false
}
