package redact_test

import (
	"errors"
	"fmt"

	"github.com/condabox/condabox/pkg/redact"
)

func ExampleURL() {
	fmt.Println(redact.URL("https://conda.anaconda.org/t/tk-1234/conda-forge/noarch/repodata.json"))
	fmt.Println(redact.URL("https://alice:hunter2@repo.example.com/channel"))
	// Output:
	// https://conda.anaconda.org/t/<TOKEN>/conda-forge/noarch/repodata.json
	// https://alice:********@repo.example.com/channel
}

func ExampleText() {
	fmt.Println(redact.Text(`Get "https://alice:hunter2@repo.example.com/t/tk-1234/c/repodata.json": EOF`))
	// Output:
	// Get "https://alice:********@repo.example.com/t/<TOKEN>/c/repodata.json": EOF
}

func ExampleError() {
	err := redact.Error(errors.New("download https://conda.anaconda.org/t/tk-1234/conda-forge failed"))
	fmt.Println(err)
	// Output:
	// download https://conda.anaconda.org/t/<TOKEN>/conda-forge failed
}
