package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/synthetic"
	"github.com/condabox/condabox/pkg/conda"
)

// buildSynthetic writes the synthetic channel's full index (repodata.json,
// .zst and shards) for every subdir the generator knows.
func buildSynthetic(cmd *cobra.Command, f buildFlags) error {
	opts := synthetic.Options{Seed: f.seed, Names: f.synthetic}
	for _, subdir := range synthetic.Subdirs {
		// Generate takes no context: stop between subdirs at least.
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		records, err := generate(subdir, opts)
		if err != nil {
			return err
		}
		if err := index.Write(f.out, subdir, records, index.Options{}); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "synthetic: %s: %d records\n", subdir, len(records))
	}
	return nil
}

// generate returns every record of one subdir of the synthetic channel. The
// generator writes repodata.json; index.Write needs records, so it is read
// back, keeping both sections whole: a package published as .tar.bz2 and
// .conda stays in both, as the generator made it.
func generate(subdir string, opts synthetic.Options) ([]conda.PackageRecord, error) {
	var buf bytes.Buffer
	if err := synthetic.Generate(&buf, subdir, opts); err != nil {
		return nil, err
	}
	rd, err := conda.ParseRepoData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("synthetic %s: read back generated repodata: %w", subdir, err)
	}
	records := make([]conda.PackageRecord, 0, len(rd.Packages)+len(rd.Conda))
	for _, section := range []map[string]conda.PackageRecord{rd.Packages, rd.Conda} {
		for _, r := range section {
			records = append(records, r)
		}
	}
	// Map order is random; sorted, the same seed gives the same index.
	slices.SortFunc(records, func(a, b conda.PackageRecord) int { return strings.Compare(a.FileName, b.FileName) })
	return records, nil
}
