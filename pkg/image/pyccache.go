package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"
)

// pycCacheVersion changes whenever the bytes a cached .pyc set holds for
// the same key could change (the cache's layout, how compilation is run),
// so old entries are not reused.
const pycCacheVersion = "condabox-pyc-2"

// pycFile is one compiled file: where it is in the image (no leading
// slash) and its bytes.
type pycFile struct {
	Path   string
	SHA256 string
	Data   []byte
}

// pycCache keeps the .pyc files compiled for each noarch python package
// between builds, in the layer cache's folder, so that a rebuild runs
// python only for the packages whose .py files or python changed.
type pycCache struct {
	// dir is the cache folder; "" disables the cache.
	dir string
	// python identifies the compiling python: its record and the content
	// of its files. "" when a content hash is unknown (nothing is cached).
	python string
}

// newPycCache returns the cache in dir for the .pyc files python (its
// package files) compiles.
func newPycCache(dir string, python *packageFiles) pycCache {
	if dir == "" {
		return pycCache{}
	}
	// Epoch zero: the interpreter's bytes matter, not the layer's mtimes.
	files := layerKey(python.entries, time.Time{})
	if files == "" {
		return pycCache{}
	}
	return pycCache{dir: dir, python: python.dist + " " + python.record.SHA256 + " " + files}
}

// key returns the cache key of compiling srcs: a hash of the cache version,
// the compile script (flags, invalidation mode) and environment, the
// python, and each source's image path (prefix and site-packages
// included) and content hash. It is "" when the cache is disabled or a
// source's content hash is unknown.
func (c pycCache) key(srcs []*entry) string {
	if c.python == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%q\n%q\n%s\n", pycCacheVersion, compileScript, compileEnv, c.python)
	for _, e := range srcs {
		if e.SHA256 == "" {
			return ""
		}
		fmt.Fprintf(h, "%q %s\n", e.Name, e.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// file is where the entry of key is stored.
func (c pycCache) file(key string) string {
	return filepath.Join(c.dir, "pyc-"+key+".gob")
}

// load returns the .pyc files cached under key. ok is false when the entry
// is absent, cannot be decoded (partly written by a crashed writer) or a
// file's bytes do not match its hash (damaged on disk): the caller
// compiles again and overwrites it.
func (c pycCache) load(key string) (files []pycFile, ok bool) {
	if key == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.file(key))
	if err != nil {
		return nil, false
	}
	if gob.NewDecoder(bytes.NewReader(b)).Decode(&files) != nil {
		return nil, false
	}
	if files == nil {
		files = []pycFile{} // gob decodes an empty list as nil: "none compiled" is a result
	}
	for _, f := range files {
		if sha256Hex(f.Data) != f.SHA256 || !validPycPath(f.Path) {
			return nil, false
		}
	}
	return files, true
}

// validPycPath reports whether p is a path compilation could have made: a
// relative, clean __pycache__ file, so a doctored entry cannot place files
// elsewhere in the image.
func validPycPath(p string) bool {
	return p != "" && filepath.IsLocal(p) && filepath.ToSlash(filepath.Clean(p)) == p &&
		strings.Contains(p, "/__pycache__/") && strings.HasSuffix(p, ".pyc")
}

// store writes files as the entry of key, atomically; key "" stores
// nothing.
func (c pycCache) store(key string, files []pycFile) error {
	if key == "" {
		return nil
	}
	if files == nil {
		files = []pycFile{} // "none compiled" is a result too: stored as [], not null
	}
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(files)
	if err == nil {
		err = os.MkdirAll(c.dir, 0o755)
	}
	if err == nil {
		err = atomicfile.WriteFile(c.file(key), b.Bytes(), 0o600)
	}
	if err != nil {
		return fmt.Errorf("pyc cache: %w", err)
	}
	return nil
}

// sha256Hex is the hex sha256 of b, as paths.json writes content hashes.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
