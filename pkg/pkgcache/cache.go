package pkgcache

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/redact"
)

// Fetcher downloads one verified file; *fetch.Client is one.
type Fetcher interface {
	Download(ctx context.Context, req fetch.Request) error
}

// Cache is a package cache over one or more pkgs directories. It is safe
// for concurrent use: an installer calls Get for every package at once.
type Cache struct {
	dirs     []string // in order of preference
	writable string   // the first writable of dirs
	// extracting holds a token per extraction running: one per core keeps
	// the CPU busy without a decoder's buffers for every package at once.
	extracting chan struct{}
	// ExtractAbove, when above 0, makes GetArchive extract the packages
	// whose archive is bigger: a reader that holds archives in memory
	// reads those from disk instead (a CUDA library expands to GiBs).
	ExtractAbove int64
	// LockTimeout, when above 0, bounds the wait for an entry another
	// process holds (micromamba's --lock-timeout); 0 waits as long as the
	// context lets it.
	LockTimeout time.Duration
}

// lockPoll is how often a waiting Get retries an entry's lock.
const lockPoll = 20 * time.Millisecond

// Open returns the cache over dirs. The first directory that is writable
// (created when missing) receives new packages; it is an error when none is.
func Open(dirs ...string) (*Cache, error) {
	var errs []error
	for _, d := range dirs {
		if err := checkWritable(d); err != nil {
			errs = append(errs, err)
			continue
		}
		return &Cache{dirs: dirs, writable: d, extracting: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
	}
	return nil, fmt.Errorf("package cache: no writable directory among %q: %w", dirs, errors.Join(errs...))
}

// checkWritable creates dir if needed and proves a file can be made in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// Dir returns the directory new packages go to.
func (c *Cache) Dir() string { return c.writable }

// FileName returns the archive file name of rec: its fn, else the last
// element of its URL.
func FileName(rec *conda.PackageRecord) string {
	if rec.FileName != "" {
		return rec.FileName
	}
	u := rec.URL
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return path.Base(u)
}

// Get returns the extracted folder of rec, downloading the archive with f
// and extracting it first when the cache holds no valid entry. rec needs a
// URL and should carry size and sha256 (else md5), which the archive is
// verified against.
func (c *Cache) Get(ctx context.Context, rec conda.PackageRecord, f Fetcher) (dir string, err error) {
	h, err := c.get(ctx, rec, f, modeExtract)
	return h.Dir, err
}

// Held is a package as GetArchive holds it: its extracted folder, or its
// archive with the record Get would have written beside it.
type Held struct {
	// Dir is the extracted folder when the cache has a valid one.
	Dir string
	// Archive is where the archive is, when Dir is "".
	Archive string
	// Record is, with Archive, the info/repodata_record.json Get would
	// have written: rec completed with the archive's name, size and
	// checksums.
	Record []byte
	// Pending is true when the archive is not known good yet: not
	// downloaded, or in the cache with the expected size but not hashed.
	// Ready makes it so before it is read.
	Pending bool
}

// GetArchive is Get for a consumer that reads packages rather than links
// them (the image builder, which reads archives into memory): it returns
// the extracted folder when the cache has one, else the archive, never
// extracted — creating a package's files can cost more than all else it
// takes. When rec has a name, size, sha256 and md5 (what repodata gives),
// the archive is neither downloaded nor hashed here but left Pending for
// Ready: a rebuild whose layers are all cached reads no archive, so it
// needs none downloaded, and hashing the 27 of a small environment cost a
// rebuild 40 ms. Otherwise it is downloaded or verified now; a sparse
// record (no name: an explicit lock gives only a URL and md5) is extracted
// as Get does, since only the package's index.json completes it, and so is
// an archive bigger than c.ExtractAbove.
func (c *Cache) GetArchive(ctx context.Context, rec conda.PackageRecord, f Fetcher) (Held, error) {
	if rec.Name == "" || c.ExtractAbove > 0 && rec.Size > c.ExtractAbove {
		return c.get(ctx, rec, f, modeExtract)
	}
	return c.get(ctx, rec, f, modeHold)
}

// Ready makes the archive GetArchive left Pending good to read: downloaded
// with f when the cache lacks it, else checked against rec's size and
// checksums (and downloaded again when it does not match).
func (c *Cache) Ready(ctx context.Context, rec conda.PackageRecord, f Fetcher) error {
	_, err := c.get(ctx, rec, f, modeArchive)
	return err
}

// What get does besides finding a valid extracted folder.
type getMode int

const (
	modeExtract getMode = iota // download, verify and extract (Get)
	modeHold                   // the folder, else the archive, maybe Pending (GetArchive)
	modeArchive                // the archive, downloaded or verified, folders ignored (Ready)
)

// get is Get, GetArchive or Ready, as mode says.
func (c *Cache) get(ctx context.Context, rec conda.PackageRecord, f Fetcher, mode getMode) (h Held, err error) {
	fn := FileName(&rec)
	defer func() {
		if err != nil {
			err = fmt.Errorf("package cache: %s: %w", fn, redact.Error(err))
		}
	}()
	if _, err := archive.FormatOf(fn); err != nil {
		return h, err
	}
	// fn comes from a channel's repodata: it must not lead out of the cache.
	if strings.ContainsAny(fn, `/\`) || strings.HasPrefix(fn, ".") {
		return h, errors.New("unsafe file name: not a plain name")
	}
	dist := archive.Dist(fn)
	for _, d := range c.dirs {
		if mode != modeArchive && d != c.writable && validEntry(filepath.Join(d, dist), &rec) == nil {
			return Held{Dir: filepath.Join(d, dist)}, nil
		}
	}

	lock := flock.New(filepath.Join(c.writable, dist+".lock"))
	lockCtx := ctx
	if c.LockTimeout > 0 {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, c.LockTimeout)
		defer cancel()
	}
	if _, err := lock.TryLockContext(lockCtx, lockPoll); err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return h, fmt.Errorf("lock %s: another process has held it for more than the lock timeout (%s)", lock.Path(), c.LockTimeout)
		}
		return h, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	defer lock.Unlock()

	dir := filepath.Join(c.writable, dist)
	if mode != modeArchive && validEntry(dir, &rec) == nil {
		return Held{Dir: dir}, nil
	}
	removeLeftovers(c.writable, fn, dist)
	file := filepath.Join(c.writable, fn)
	if mode == modeHold && rec.Size > 0 && rec.SHA256 != "" && rec.MD5 != "" {
		b, err := recordJSON(rec, fn, digest{rec.Size, strings.ToLower(rec.SHA256), strings.ToLower(rec.MD5)})
		return Held{Archive: file, Record: b, Pending: true}, err
	}
	got, err := checkArchive(file, &rec)
	if err != nil {
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return h, err
		}
		if rec.URL == "" {
			return h, errors.New("no URL to download it from")
		}
		req := fetch.Request{URL: rec.URL, Dest: file, Size: rec.Size, SHA256: rec.SHA256, MD5: rec.MD5}
		if err := f.Download(ctx, req); err != nil {
			return h, err
		}
		if err := appendURL(c.writable, rec.URL); err != nil {
			return h, err
		}
		if got, err = downloaded(file, &rec); err != nil {
			return h, err
		}
	}
	if mode != modeExtract {
		b, err := recordJSON(rec, fn, got)
		return Held{Archive: file, Record: b}, err
	}
	if err := c.extract(ctx, file, dir); err != nil {
		if archive.Rejected(err) {
			// Bad for good although its checksum matched: drop it rather
			// than fail on it again without a new download.
			os.Remove(file)
		}
		return h, err
	}
	if err := writeRecord(dir, &rec, fn, got); err != nil {
		return h, err
	}
	return Held{Dir: dir}, nil
}

// extract runs archive.Extract once a token of c.extracting is free.
func (c *Cache) extract(ctx context.Context, file, dir string) error {
	select {
	case c.extracting <- struct{}{}:
		defer func() { <-c.extracting }()
	case <-ctx.Done():
		return ctx.Err()
	}
	return archive.Extract(ctx, file, dir)
}

// removeLeftovers deletes what a process killed while holding this entry's
// lock may have left: partial downloads and extractions.
func removeLeftovers(dir, fn, dist string) {
	for _, pattern := range []string{"." + fn + ".*.part", "." + dist + ".extract-*"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
}

// digest is what the cache knows of an archive file on disk.
type digest struct {
	size        int64
	sha256, md5 string
}

// checkArchive hashes the archive file and compares it with rec's size and
// sha256 (else md5).
func checkArchive(file string, rec *conda.PackageRecord) (digest, error) {
	f, err := os.Open(file)
	if err != nil {
		return digest{}, err
	}
	defer f.Close()
	// The md5 is computed only when rec cannot give it: with a sha256 to
	// check, the file that passes has rec's md5 as well.
	sh := sha256.New()
	var m hash.Hash
	w := io.Writer(sh)
	if rec.SHA256 == "" || rec.MD5 == "" {
		m = md5.New()
		w = io.MultiWriter(sh, m)
	}
	n, err := io.Copy(w, f)
	if err != nil {
		return digest{}, fmt.Errorf("read %s: %w", file, err)
	}
	got := digest{n, hex.EncodeToString(sh.Sum(nil)), strings.ToLower(rec.MD5)}
	if m != nil {
		got.md5 = hex.EncodeToString(m.Sum(nil))
	}
	switch {
	case rec.Size > 0 && got.size != rec.Size:
		return got, fmt.Errorf("%s: size %d, expected %d", file, got.size, rec.Size)
	case rec.SHA256 != "" && !strings.EqualFold(got.sha256, rec.SHA256):
		return got, fmt.Errorf("%s: sha256 %s, expected %s", file, got.sha256, rec.SHA256)
	case rec.SHA256 == "" && rec.MD5 != "" && !strings.EqualFold(got.md5, rec.MD5):
		return got, fmt.Errorf("%s: md5 %s, expected %s", file, got.md5, rec.MD5)
	}
	return got, nil
}

// downloaded returns the digest of an archive Download just verified: rec's
// own values when it has them all (fetch checked size and sha256), else
// the file's.
func downloaded(file string, rec *conda.PackageRecord) (digest, error) {
	if rec.Size > 0 && rec.SHA256 != "" && rec.MD5 != "" {
		return digest{rec.Size, strings.ToLower(rec.SHA256), strings.ToLower(rec.MD5)}, nil
	}
	return checkArchive(file, rec)
}

// recordPath is the file whose presence marks a complete extraction.
func recordPath(dir string) string { return filepath.Join(dir, "info", "repodata_record.json") }

// validEntry checks that dir is a complete extraction of the package rec
// describes: its repodata_record.json exists and agrees on the checksums
// and size both know, or on the file name when neither has a checksum.
func validEntry(dir string, rec *conda.PackageRecord) error {
	b, err := os.ReadFile(recordPath(dir))
	if err != nil {
		return err
	}
	var have conda.PackageRecord
	if err := json.Unmarshal(b, &have); err != nil {
		return fmt.Errorf("%s: %w", recordPath(dir), err)
	}
	differ := func(a, b string) bool { return a != "" && b != "" && !strings.EqualFold(a, b) }
	switch {
	case differ(have.SHA256, rec.SHA256), differ(have.MD5, rec.MD5):
		return fmt.Errorf("%s: checksum differs from the wanted package", recordPath(dir))
	case have.Size > 0 && rec.Size > 0 && have.Size != rec.Size:
		return fmt.Errorf("%s: size differs from the wanted package", recordPath(dir))
	case have.SHA256 == "" && have.MD5 == "" && have.FileName != FileName(rec):
		return fmt.Errorf("%s: no checksum and another file name", recordPath(dir))
	}
	return nil
}

// writeRecord writes info/repodata_record.json, last and atomically: rec
// completed with the archive's file name, size and checksums. A sparse
// record (an explicit lock file gives only a URL and md5) is completed
// from the package's own info/index.json.
func writeRecord(dir string, rec *conda.PackageRecord, fn string, got digest) error {
	r := *rec
	if r.Name == "" {
		b, err := os.ReadFile(filepath.Join(dir, "info", "index.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "info", "index.json"), err)
		}
		r.URL, r.Channel = rec.URL, rec.Channel
	}
	b, err := recordJSON(r, fn, got)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(recordPath(dir), b, 0o600)
}

// recordJSON is repodata_record.json's content: r completed with the
// archive's file name, size and checksums.
func recordJSON(r conda.PackageRecord, fn string, got digest) ([]byte, error) {
	r.FileName, r.Size, r.SHA256, r.MD5 = fn, got.size, got.sha256, got.md5
	b, err := conda.IndentJSON(&r, "")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// appendURL adds url to urls.txt as conda does. One small O_APPEND write
// keeps lines whole when processes append at once.
func appendURL(dir, url string) error {
	f, err := os.OpenFile(filepath.Join(dir, "urls.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(url + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
