// Package index writes a conda channel's index for one subdir:
// repodata.json, repodata.json.zst and CEP-16 sharded repodata.
package index

import (
	"errors"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// Options tunes Write. The zero value is valid.
type Options struct {
	// BaseURL and ShardsBaseURL go into the shard index's info; empty means
	// "./" relative to the subdir, as CEP-16 allows.
	BaseURL       string
	ShardsBaseURL string
	// CreatedAt is written into the shard index; zero means the Unix epoch
	// so output stays deterministic.
	CreatedAt time.Time
}

// Write writes <channelDir>/<subdir>/repodata.json, repodata.json.zst and the
// CEP-16 sharded index (repodata_shards.msgpack.zst + shards/<sha256>.msgpack.zst)
// for the given records (FileName set).
func Write(channelDir, subdir string, records []conda.PackageRecord, opts Options) error {
	return errors.New("index: not implemented yet")
}
