package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerCacheVersion changes whenever the bytes writeLayer produces for the
// same entries change (tar or gzip settings), so old entries are not reused.
const layerCacheVersion = "condabox-layer-3"

// layerKey returns the cache key of the layer holding entries: a hash of
// every entry's header fields, mtime and content hash, and of the epoch. It is ""
// when an entry's content hash is unknown (then the layer is not cached).
func layerKey(entries []entry, epoch time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n", layerCacheVersion, epoch.Unix())
	for i := range entries {
		e := &entries[i]
		if e.Type == tar.TypeReg && e.SHA256 == "" {
			return ""
		}
		var mtime int64
		if !e.ModTime.IsZero() {
			mtime = e.ModTime.Unix()
		}
		fmt.Fprintf(h, "%q %c %o %d %d %q %d %s %d\n", e.Name, e.Type, normalMode(e), e.UID, e.GID, e.Linkname, e.Size, e.SHA256, mtime)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedLayer is the metadata stored beside a cached layer blob.
type cachedLayer struct {
	Digest, DiffID v1.Hash
	Size           int64
}

// cachedWriteLayer is writeLayer with a cache in dir: a layer built before
// from the same entries is reused without reading or compressing anything,
// which makes a rebuild after one package changed cost only that package's
// layer. dir "" disables the cache. Not in the cache, a layer that reuse
// (Options.Reuse; nil for none) finds in the registry by its layerID is
// taken from there, again without reading or compressing anything.
//
// load, when not nil, returns the entries to write once the layer is known
// not to be cached: the same entries, with content their listing lacked.
func cachedWriteLayer(ctx context.Context, dir, workDir string, entries []entry, epoch time.Time, c codec, load func() ([]entry, error), reuse ReuseFunc) (*fileLayer, error) {
	key := layerKey(entries, epoch)
	id := layerID(key, c)
	var blob, meta string
	if dir != "" && key != "" {
		blob, meta = filepath.Join(dir, key+".tar"+c.cacheExt()), filepath.Join(dir, key+c.cacheExt()+".json")
		if l := readCached(blob, meta, c); l != nil {
			l.id = id
			return l, nil
		}
	}
	if reuse != nil && id != "" {
		if d, diffID, ok := reuse(ctx, id); ok {
			return &fileLayer{digest: d.Digest, diffID: diffID, size: d.Size, codec: c, mediaType: c.ociMediaType(), id: id, reused: true}, nil
		}
	}
	if load != nil {
		var err error
		if entries, err = load(); err != nil {
			return nil, err
		}
	}
	if blob == "" {
		l, err := writeLayer(ctx, workDir, entries, epoch, c)
		if l != nil {
			l.id = id
		}
		return l, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	l, err := writeLayer(ctx, dir, entries, epoch, c)
	if err != nil {
		return nil, err
	}
	l.id = id
	b, err := json.Marshal(cachedLayer{Digest: l.digest, DiffID: l.diffID, Size: l.size})
	if err == nil {
		err = os.Rename(l.path, blob)
	}
	if err == nil {
		l.path = blob
		err = atomicfile.WriteFile(meta, b, 0o600) // written last: its presence marks a complete entry
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	return l, nil
}

// layerID names the bytes of the layer of key (layerKey) written by codec c
// in the image history (the comment of each layer Build adds), for
// Options.Reuse: the layer writer's version, the compression and its level,
// and the key. "" for a layer of no key.
func layerID(key string, c codec) string {
	if key == "" {
		return ""
	}
	return c.format() + " " + key
}

// readCached returns the cached layer, or nil when it is absent or
// incomplete.
func readCached(blob, meta string, c codec) *fileLayer {
	b, err := os.ReadFile(meta)
	if err != nil {
		return nil
	}
	var cl cachedLayer
	if json.Unmarshal(b, &cl) != nil {
		return nil
	}
	st, err := os.Stat(blob)
	if err != nil || st.Size() != cl.Size {
		return nil
	}
	return &fileLayer{path: blob, digest: cl.Digest, diffID: cl.DiffID, size: cl.Size, codec: c, mediaType: c.ociMediaType()}
}

// startReadBase runs cachedReadBase in the background (on a cold build it
// downloads part of the base) and returns its wait, which may be called
// again (Build defers one, so that it never returns with the read still
// writing to the cache).
func startReadBase(base v1.Image, dir string) func() (*baseFiles, error) {
	type result struct {
		fs  *baseFiles
		err error
	}
	ch := make(chan result, 1)
	go func() {
		fs, err := cachedReadBase(base, dir)
		ch <- result{fs, err}
	}()
	return sync.OnceValues(func() (*baseFiles, error) {
		r := <-ch
		return r.fs, r.err
	})
}

// cachedReadBase is readBase with a cache in dir keyed by the base's
// digest: reading a base means decompressing all its layers, the biggest
// cost of a rebuild on a base. dir "" disables the cache.
func cachedReadBase(base v1.Image, dir string) (*baseFiles, error) {
	if dir == "" {
		return readBase(base)
	}
	d, err := base.Digest()
	if err != nil {
		return nil, fmt.Errorf("base digest: %w", err)
	}
	name := filepath.Join(dir, "base-"+d.Hex+".json")
	var bf baseFiles
	if b, err := os.ReadFile(name); err == nil && json.Unmarshal(b, &bf) == nil {
		return &bf, nil
	}
	out, err := readBase(base)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = atomicfile.WriteFile(name, b, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	return out, nil
}
