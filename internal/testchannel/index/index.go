// Package index writes a conda channel's index for one subdir:
// repodata.json, repodata.json.zst and CEP-16 sharded repodata.
//
// Output is deterministic (sorted keys and entries, fixed created_at by
// default) and written streaming: repodata.json is encoded one record at a
// time and shards one package name at a time, so a 500k-record subdir needs
// little memory beyond the records themselves.
package index

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/klauspost/compress/zstd"

	"github.com/condabox/condabox/pkg/conda"
)

// Options tunes Write. The zero value is valid.
type Options struct {
	// BaseURL is where the subdir's packages are, if not beside repodata.json
	// (CEP-15). When set, repodata.json gets info.base_url and
	// repodata_version 2, and the shard index carries it; otherwise
	// repodata_version is 1, as conda-index writes, and the shard index
	// says "./".
	BaseURL string
	// ShardsBaseURL is where the shards are, relative to the shard index or
	// absolute; empty means "./shards/", where Write puts them.
	ShardsBaseURL string
	// CreatedAt is written into the shard index; zero means the Unix epoch
	// so output stays deterministic.
	CreatedAt time.Time
}

// File and directory names of a subdir's index, relative to the subdir.
const (
	RepodataFile    = "repodata.json"
	RepodataZstFile = "repodata.json.zst"
	ShardIndexFile  = "repodata_shards.msgpack.zst"
	ShardsDir       = "shards"
)

// Write writes <channelDir>/<subdir>/repodata.json, repodata.json.zst and the
// CEP-16 sharded index (repodata_shards.msgpack.zst + shards/<sha256>.msgpack.zst)
// for the given records (FileName set). Files are replaced atomically and
// the shard index after all its shards, so a server reading meanwhile never
// sees a torn file or an index naming a missing shard. Shards of an earlier
// write stay, as CEP-16 asks servers to keep them for clients holding the
// old shard index.
func Write(channelDir, subdir string, records []conda.PackageRecord, opts Options) error {
	if subdir == "" || subdir == "." || subdir == ".." || strings.ContainsAny(subdir, `/\`) {
		return fmt.Errorf("write index of %s: subdir %q is not a directory name", channelDir, subdir)
	}
	dir := filepath.Join(channelDir, subdir)
	if err := checkRecords(subdir, records); err != nil {
		return fmt.Errorf("write index of %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ShardsDir), 0o755); err != nil {
		return fmt.Errorf("write index of %s: %w", dir, err)
	}
	// The two encodings only read the records: build them side by side.
	var repodataErr error
	var wg sync.WaitGroup
	wg.Go(func() { repodataErr = writeRepodata(dir, subdir, records, opts) })
	shardsErr := writeShards(dir, subdir, records, opts)
	wg.Wait()
	if err := errors.Join(shardsErr, repodataErr); err != nil {
		return fmt.Errorf("write index of %s: %w", dir, err)
	}
	return nil
}

// WriteChannel writes the index of every subdir the records belong to (by
// their Subdir) and an empty noarch index when no record is noarch, because
// conda clients fail on a channel without noarch.
func WriteChannel(channelDir string, records []conda.PackageRecord, opts Options) error {
	bySubdir := map[string][]conda.PackageRecord{"noarch": nil}
	for _, r := range records {
		if r.Subdir == "" {
			return fmt.Errorf("write channel %s: record %s has no subdir", channelDir, r.FileName)
		}
		bySubdir[r.Subdir] = append(bySubdir[r.Subdir], r)
	}
	for _, subdir := range slices.Sorted(maps.Keys(bySubdir)) {
		if err := Write(channelDir, subdir, bySubdir[subdir], opts); err != nil {
			return err
		}
	}
	return nil
}

// checkRecords rejects records that cannot be entries of the subdir.
func checkRecords(subdir string, records []conda.PackageRecord) error {
	seen := make(map[string]bool, len(records))
	for i := range records {
		r := &records[i]
		fn := r.FileName
		if _, ok := archiveKey(fn); !ok || strings.ContainsAny(fn, `/\`) {
			return fmt.Errorf("record %d (%s): file name %q is not <dist>.conda or <dist>.tar.bz2", i, r.Dist(), fn)
		}
		if r.Name == "" {
			return fmt.Errorf("record %s: empty name", fn)
		}
		if seen[fn] {
			return fmt.Errorf("record %s: duplicate file name", fn)
		}
		seen[fn] = true
		if r.Subdir != "" && r.Subdir != subdir {
			return fmt.Errorf("record %s: subdir %q, want %q", fn, r.Subdir, subdir)
		}
		// Shards carry the digests as raw bytes: they must decode.
		for _, h := range []struct {
			key, val string
			size     int
		}{{"md5", r.MD5, md5.Size}, {"sha256", r.SHA256, sha256.Size}} {
			if b, err := hex.DecodeString(h.val); err != nil || (h.val != "" && len(b) != h.size) {
				return fmt.Errorf("record %s: %s %q is not %d hex-encoded bytes", fn, h.key, h.val, h.size)
			}
		}
	}
	return nil
}

// archiveKey returns the repodata key a package file belongs under.
func archiveKey(fn string) (string, bool) {
	switch {
	case strings.HasSuffix(fn, ".conda") && len(fn) > len(".conda"):
		return "packages.conda", true
	case strings.HasSuffix(fn, ".tar.bz2") && len(fn) > len(".tar.bz2"):
		return "packages", true
	}
	return "", false
}

// entryFields returns the record as a repodata entry: its JSON object
// without the loader-only keys, with depends always a list.
func entryFields(r *conda.PackageRecord) (map[string]any, error) {
	rec := *r
	rec.FileName, rec.URL, rec.Channel = "", "", ""
	if rec.Depends == nil {
		rec.Depends = []string{}
	}
	return rec.Fields()
}

// writeRepodata writes repodata.json as conda-index does (two-space indent,
// sorted keys), then its zstd copy.
func writeRepodata(dir, subdir string, records []conda.PackageRecord, opts Options) error {
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(records[a].FileName, records[b].FileName) })

	info := map[string]string{"subdir": subdir}
	version := 1
	if opts.BaseURL != "" {
		info["base_url"], version = opts.BaseURL, 2
	}
	jsonPath := filepath.Join(dir, RepodataFile)
	err := writeAtomic(jsonPath, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		infoJSON, err := conda.IndentJSON(info, "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "{\n  \"info\": %s,\n", infoJSON)
		// Sorted by file name, all .tar.bz2 come in "packages" and all
		// .conda in "packages.conda"; one pass per key keeps the order.
		for _, key := range []string{"packages", "packages.conda"} {
			fmt.Fprintf(bw, "  \"%s\": {", key)
			n := 0
			for _, i := range order {
				if k, _ := archiveKey(records[i].FileName); k != key {
					continue
				}
				fields, err := entryFields(&records[i])
				if err != nil {
					return err
				}
				entry, err := conda.IndentJSON(fields, "    ")
				if err != nil {
					return fmt.Errorf("record %s: %w", records[i].FileName, err)
				}
				if n > 0 {
					bw.WriteString(",")
				}
				key, err := json.Marshal(records[i].FileName) // JSON, not Go, string escapes
				if err != nil {
					return err
				}
				fmt.Fprintf(bw, "\n    %s: %s", key, entry)
				n++
			}
			if n > 0 {
				bw.WriteString("\n  ")
			}
			bw.WriteString("},\n")
		}
		fmt.Fprintf(bw, "  \"removed\": [],\n  \"repodata_version\": %d\n}\n", version)
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	return compressFile(jsonPath, filepath.Join(dir, RepodataZstFile))
}

// compressFile writes the zstd compression of src to dst.
func compressFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomic(dst, func(w io.Writer) error {
		zw, err := newZstdWriter(w)
		if err != nil {
			return err
		}
		if _, err := io.Copy(zw, in); err != nil {
			zw.Close()
			return fmt.Errorf("compress %s: %w", src, err)
		}
		return zw.Close()
	})
}

// newZstdWriter returns the encoder for every .zst file of the index; one
// goroutine keeps the output independent of scheduling.
func newZstdWriter(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
}

// writeAtomic writes a channel file whole or not at all (pkg/atomicfile),
// readable by the server, and names the file in errors.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, 0o644, write); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
