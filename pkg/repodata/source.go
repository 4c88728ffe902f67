package repodata

import (
	"bytes"
	"context"
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

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/httpretry"
	"github.com/condabox/condabox/pkg/redact"
)

// source gives the records of one package name in one channel subdir.
type source interface {
	records(ctx context.Context, name string) ([]conda.PackageRecord, error)
	// names are the package names the subdir has, in no order.
	names() []string
	// baseURL is where the packages are relative to the subdir (CEP-15
	// base_url); "" means beside the index.
	baseURL() string
	close() error
}

// File names of a subdir's index, relative to the subdir URL.
const (
	repodataFile   = "repodata.json"
	shardIndexFile = "repodata_shards.msgpack.zst"
)

// emptySource is a platform subdir the channel does not have: conda treats
// it as empty rather than as an error (only a missing noarch is one).
type emptySource struct{}

func (emptySource) records(context.Context, string) ([]conda.PackageRecord, error) { return nil, nil }
func (emptySource) names() []string                                                { return nil }
func (emptySource) baseURL() string                                                { return "" }
func (emptySource) close() error                                                   { return nil }

// jsonSource reads records from a cached repodata.json through the name
// index built by one scan, decoding only the names asked for.
type jsonSource struct {
	url  string // redacted, for errors
	file interface {
		io.ReaderAt
		io.Closer
	}
	ix *nameIndex
}

func (j *jsonSource) close() error { return j.file.Close() }

func (j *jsonSource) names() []string { return slices.Collect(maps.Keys(j.ix.ids)) }

func (j *jsonSource) baseURL() string {
	var info conda.RepoDataInfo
	if json.Unmarshal(j.ix.info, &info) != nil {
		return "" // a bad info object is reported when records are decoded
	}
	return info.BaseURL
}

// records reads the spans of name from the cached file and decodes them as
// a small repodata document, with pkg/conda's decoder.
func (j *jsonSource) records(_ context.Context, name string) ([]conda.PackageRecord, error) {
	spans := j.ix.lookup(name)
	if len(spans) == 0 {
		return nil, nil
	}
	var doc bytes.Buffer
	if j.ix.info != nil {
		doc.WriteString(`{"info":`)
		doc.Write(j.ix.info)
		doc.WriteString(`,"packages":{`)
	} else {
		doc.WriteString(`{"packages":{`)
	}
	sep := ""
	for _, condaSection := range []bool{false, true} {
		if condaSection {
			doc.WriteString(`},"packages.conda":{`)
			sep = ""
		}
		for _, sp := range spans {
			if sp.conda != condaSection {
				continue
			}
			doc.WriteString(sep)
			sep = ","
			doc.Grow(int(sp.n))
			buf := doc.AvailableBuffer()[:sp.n]
			if _, err := j.file.ReadAt(buf, sp.off); err != nil {
				return nil, fmt.Errorf("read cached %s: %w", j.url, err)
			}
			doc.Write(buf)
		}
	}
	doc.WriteString(`}}`)
	lazy, err := conda.NewLazyRepoData(doc.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: records of %s: %w", j.url, name, err)
	}
	recs, err := lazy.Records(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.url, err)
	}
	return recs, nil
}

// shardIndex is CEP-16's repodata_shards.msgpack.zst.
type shardIndex struct {
	Version int `msgpack:"version"`
	Info    struct {
		BaseURL       string `msgpack:"base_url"`
		ShardsBaseURL string `msgpack:"shards_base_url"`
		Subdir        string `msgpack:"subdir"`
	} `msgpack:"info"`
	Shards map[string][]byte `msgpack:"shards"`
}

// decodeShardIndex decompresses and decodes a shard index.
func decodeShardIndex(r io.Reader) (*shardIndex, error) {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	var idx shardIndex
	if err := msgpack.NewDecoder(dec).Decode(&idx); err != nil {
		return nil, fmt.Errorf("decode shard index: %w", err)
	}
	// Drain, so that a body cut after the msgpack value still fails.
	if _, err := io.Copy(io.Discard, dec); err != nil {
		return nil, fmt.Errorf("decode shard index: %w", err)
	}
	for name, h := range idx.Shards {
		if len(h) != sha256.Size {
			return nil, fmt.Errorf("decode shard index: shard of %q: hash of %d bytes, want %d", name, len(h), sha256.Size)
		}
	}
	return &idx, nil
}

// shardSource fetches the shard of each name asked for, once; shards are
// content addressed by their sha256, so a cached one is never refetched.
type shardSource struct {
	g         *Gateway
	url       string // redacted, for errors
	index     *shardIndex
	shardsURL string // with secrets
}

func (s *shardSource) close() error { return nil }

func (s *shardSource) names() []string { return slices.Collect(maps.Keys(s.index.Shards)) }

func (s *shardSource) baseURL() string { return s.index.Info.BaseURL }

func (s *shardSource) records(ctx context.Context, name string) ([]conda.PackageRecord, error) {
	hash, ok := s.index.Shards[name]
	if !ok {
		return nil, nil
	}
	hexHash := hex.EncodeToString(hash)
	path := filepath.Join(s.g.cacheDir, "shards", hexHash+".msgpack.zst")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err = s.fetch(ctx, hexHash, hash, path)
	}
	if err != nil {
		return nil, fmt.Errorf("shard of %s in %s: %w", name, s.url, err)
	}
	recs, err := decodeShard(data, name)
	if err != nil {
		return nil, fmt.Errorf("shard of %s in %s (%s): %w", name, s.url, path, err)
	}
	return recs, nil
}

// fetch downloads a shard, checks it against its hash and caches it.
func (s *shardSource) fetch(ctx context.Context, hexHash string, hash []byte, path string) ([]byte, error) {
	if s.g.opts.Offline {
		return nil, fmt.Errorf("%w (%s)", ErrOffline, path)
	}
	rawURL := s.shardsURL + hexHash + ".msgpack.zst"
	var data []byte
	err := s.g.withRetries(ctx, rawURL, func() error {
		resp, err := s.g.get(ctx, rawURL, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body := &countingReader{r: resp.Body, n: &s.g.stats.bodyBytes}
		data, err = io.ReadAll(body)
		if err != nil {
			return httpretry.Retryable(fmt.Errorf("body cut short: %w", err))
		}
		// A corrupted transfer is retried; the server may serve it right.
		if sum := sha256.Sum256(data); !bytes.Equal(sum[:], hash) {
			return httpretry.Retryable(fmt.Errorf("sha256 %x, want %s", sum, hexHash))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", redact.URL(rawURL), err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error { _, err := w.Write(data); return err })
	return data, err
}

// decodeShard turns a shard (zstd msgpack: packages, packages.conda with
// md5 and sha256 as raw bytes) into records, through the JSON form so
// that records decode exactly as from repodata.json.
func decodeShard(data []byte, name string) ([]conda.PackageRecord, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(data, nil)
	if err != nil {
		return nil, err
	}
	var shard map[string]any
	if err := msgpack.Unmarshal(raw, &shard); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(map[string]any{
		"packages":       jsonValue(shard["packages"]),
		"packages.conda": jsonValue(shard["packages.conda"]),
	})
	if err != nil {
		return nil, err
	}
	lazy, err := conda.NewLazyRepoData(doc)
	if err != nil {
		return nil, err
	}
	return lazy.Records(name)
}

// jsonValue converts decoded msgpack to what repodata.json holds: binary
// (the md5 and sha256 digests) becomes lower-case hex.
func jsonValue(v any) any {
	switch v := v.(type) {
	case []byte:
		return hex.EncodeToString(v)
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
	}
	return v
}
