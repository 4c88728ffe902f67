package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/condabox/condabox/pkg/conda"
)

// shardIndexVersion is the "version" of the CEP-16 shard index.
const shardIndexVersion = 1

// shardWorkers is how many shards are encoded and written at once.
const shardWorkers = 4

// writeShards writes one shard per package name, then the shard index that
// maps each name to the sha256 of its compressed shard file.
func writeShards(dir, subdir string, records []conda.PackageRecord, opts Options) error {
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ra, rb := &records[a], &records[b]
		if c := strings.Compare(ra.Name, rb.Name); c != 0 {
			return c
		}
		return strings.Compare(ra.FileName, rb.FileName)
	})

	// Package names are independent: workers encode and write their shards
	// in parallel, which mostly overlaps the file creations that dominate
	// on slow disks.
	enc, err := newZstdWriter(nil) // EncodeAll is safe for concurrent use
	if err != nil {
		return err
	}
	defer enc.Close()
	groups := make(chan []int)
	var (
		mu       sync.Mutex
		hashes   = map[string]any{} // not map[string][]byte: msgpack sorts keys only of common map types
		firstErr error
		wg       sync.WaitGroup
	)
	for range shardWorkers {
		wg.Go(func() {
			for idx := range groups {
				name, hash, err := writeShard(dir, enc, records, idx)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				hashes[name] = hash
				mu.Unlock()
			}
		})
	}
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && records[order[end]].Name == records[order[start]].Name {
			end++
		}
		groups <- order[start:end]
		start = end
	}
	close(groups)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}

	base, shardsBase := opts.BaseURL, opts.ShardsBaseURL
	if base == "" {
		base = "./"
	}
	if shardsBase == "" {
		shardsBase = "./" + ShardsDir + "/"
	}
	created := opts.CreatedAt
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	index, err := marshalSorted(map[string]any{
		"version": shardIndexVersion,
		"info": map[string]any{
			"base_url":        base,
			"shards_base_url": shardsBase,
			"subdir":          subdir,
			"created_at":      created.UTC().Format(time.RFC3339),
		},
		"shards": hashes,
	})
	if err != nil {
		return fmt.Errorf("shard index: %w", err)
	}
	return writeAtomic(filepath.Join(dir, ShardIndexFile), func(w io.Writer) error {
		_, err := w.Write(enc.EncodeAll(index, nil))
		return err
	})
}

// writeShard encodes, compresses and writes the shard of the records at idx,
// which share one name, and returns that name and the shard's sha256.
func writeShard(dir string, enc *zstd.Encoder, records []conda.PackageRecord, idx []int) (string, []byte, error) {
	name := records[idx[0]].Name
	shard, err := encodeShard(records, idx)
	if err != nil {
		return name, nil, err
	}
	compressed := enc.EncodeAll(shard, nil)
	sum := sha256.Sum256(compressed)
	path := filepath.Join(dir, ShardsDir, hex.EncodeToString(sum[:])+".msgpack.zst")
	return name, sum[:], writeShardFile(path, compressed)
}

// writeShardFile writes a content-addressed shard unless it is there
// already: same name, same bytes.
func writeShardFile(path string, data []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// encodeShard returns the msgpack shard of the records at idx (one name):
// {packages, packages.conda, removed}, with md5 and sha256 as raw bytes as
// CEP-16 specifies.
func encodeShard(records []conda.PackageRecord, idx []int) ([]byte, error) {
	shard := map[string]any{
		"packages":       map[string]any{},
		"packages.conda": map[string]any{},
		"removed":        []string{},
	}
	for _, i := range idx {
		r := &records[i]
		fields, err := entryFields(r)
		if err != nil {
			return nil, err
		}
		for _, key := range []string{"md5", "sha256"} {
			if s, ok := fields[key].(string); ok {
				// checkRecords has vetted the hex.
				fields[key], _ = hex.DecodeString(s)
			}
		}
		key, _ := archiveKey(r.FileName)
		shard[key].(map[string]any)[r.FileName] = msgpackValue(fields)
	}
	b, err := marshalSorted(shard)
	if err != nil {
		return nil, fmt.Errorf("shard of %s: %w", records[idx[0]].Name, err)
	}
	return b, nil
}

// msgpackValue converts decoded JSON to values msgpack encodes natively:
// json.Number becomes an integer (or a float when it is not one).
func msgpackValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = msgpackValue(e)
		}
	case []any:
		for i, e := range v {
			v[i] = msgpackValue(e)
		}
	}
	return v
}

// marshalSorted encodes v as msgpack with sorted map keys and the smallest
// integer encodings, so equal input gives equal bytes.
func marshalSorted(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
