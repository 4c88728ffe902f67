package conda

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/condabox/condabox/internal/jsonscan"
)

// RepoData is a channel subdir's index, repodata.json. Records are keyed by
// file name: Packages holds the .tar.bz2 packages, Conda the .conda ones.
type RepoData struct {
	Info     RepoDataInfo             `json:"info"`
	Packages map[string]PackageRecord `json:"packages"`
	Conda    map[string]PackageRecord `json:"packages.conda"`
	// Removed lists file names withdrawn from the channel.
	Removed []string `json:"removed,omitempty"`
	// Version is repodata_version: 0 or 1 for the classic format, 2 when
	// Info.BaseURL locates the packages.
	Version int `json:"repodata_version,omitempty"`
}

// RepoDataInfo is the "info" object of repodata.json.
type RepoDataInfo struct {
	Subdir string `json:"subdir,omitempty"`
	// BaseURL (repodata_version 2) is where the package files live, absolute
	// or relative to the repodata.json URL; empty means beside it.
	BaseURL string `json:"base_url,omitempty"`
}

// ParseRepoData decodes a repodata.json document in one pass with the fast
// decoder and sets every record's FileName from its key. It decodes exactly
// what encoding/json would; errors give the byte offset and the package key.
// The records' strings share one copy of data, so data may be reused.
func ParseRepoData(data []byte) (*RepoData, error) {
	s := repoScan{r: jsonReader{Tokenizer: jsonscan.NewBytes(data), text: string(data)}, decodeAll: true}
	if err := s.document(); err != nil {
		return nil, fmt.Errorf("parse repodata: %w", err)
	}
	return &s.head, nil
}

// Records returns every record, grouped by name in sorted order, with the
// .tar.bz2 form of a package dropped when its .conda form exists (the same
// records LazyRepoData.Records gives name by name).
func (r *RepoData) Records() []PackageRecord {
	byName := map[string][]PackageRecord{}
	for _, section := range []map[string]PackageRecord{r.Packages, r.Conda} {
		for _, rec := range section {
			byName[rec.Name] = append(byName[rec.Name], rec)
		}
	}
	names := slices.Sorted(maps.Keys(byName))
	var all []PackageRecord
	for _, name := range names {
		recs := byName[name]
		// Stable so a file name present in both sections keeps "packages" first,
		// as LazyRepoData orders it.
		slices.SortStableFunc(recs, func(a, b PackageRecord) int { return cmp.Compare(a.FileName, b.FileName) })
		all = append(all, preferConda(recs)...)
	}
	return all
}

// preferConda drops each .tar.bz2 record whose file has a .conda sibling of
// the same name-version-build, as conda does: both hold the same package and
// .conda extracts faster. It filters recs in place, keeping their order.
func preferConda(recs []PackageRecord) []PackageRecord {
	var condaStems []string
	for _, rec := range recs {
		if stem, ok := strings.CutSuffix(rec.FileName, ".conda"); ok {
			condaStems = append(condaStems, stem)
		}
	}
	if len(condaStems) == 0 {
		return recs
	}
	slices.Sort(condaStems)
	kept := recs[:0]
	for _, rec := range recs {
		if stem, ok := strings.CutSuffix(rec.FileName, ".tar.bz2"); ok {
			if _, found := slices.BinarySearch(condaStems, stem); found {
				continue
			}
		}
		kept = append(kept, rec)
	}
	return kept
}
