package repodata

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/pkg/redact"
)

// state is the <hash>.info.json beside a cached <hash>.json, in the format
// conda (≥ 23) writes: the validators of the cached copy, when it was last
// confirmed with the server, and whether the .zst variant exists. size and
// mtime_ns tie it to the cached file: if they differ, the validators do not
// describe that file and are ignored.
type state struct {
	URL          string `json:"url"` // redacted: the file may be shown or shared
	ETag         string `json:"etag,omitempty"`
	Mod          string `json:"mod,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
	Size         int64  `json:"size"`
	MtimeNS      int64  `json:"mtime_ns"`
	// RefreshNS is when the server last confirmed the copy (a 200 or 304).
	RefreshNS int64 `json:"refresh_ns"`
	// HasZst records whether <url>.zst exists; the validators belong to the
	// .zst file when it does.
	HasZst *checked `json:"has_zst,omitempty"`
	// NotFound records a 404, so that a missing platform subdir or shard
	// index is not asked for again until the copy would be stale.
	NotFound bool `json:"not_found,omitempty"`
}

// checked is a remembered yes/no answer and when it was obtained.
type checked struct {
	Value       bool      `json:"value"`
	LastChecked time.Time `json:"last_checked"`
}

// zstRecheck is how long a missing .zst is believed missing, as in conda.
const zstRecheck = 7 * 24 * time.Hour

// entry is one cached remote file: <cache>/<hash>.json, its state file,
// the lock that serialises processes refreshing it and, for a
// repodata.json, its saved name index.
type entry struct {
	url   string // with secrets, for requests only
	local bool   // file:// — always revalidated, a stat is cheap
	data  string
	state string
	lock  string
	names string // the saved name index of a repodata.json (nameindex.go)
}

// cacheKey is conda's cache file stem for a file of a subdir: the first 8
// hex digits of the md5 of the subdir URL with a trailing slash, with the
// file name appended unless it is repodata.json.
func cacheKey(subdirURL, file string) string {
	if !strings.HasSuffix(subdirURL, "/") {
		subdirURL += "/"
	}
	if file != "repodata.json" {
		subdirURL += file
	}
	sum := md5.Sum([]byte(subdirURL))
	return hex.EncodeToString(sum[:])[:8]
}

func (g *Gateway) entry(subdirURL, file string) *entry {
	key := filepath.Join(g.cacheDir, cacheKey(subdirURL, file))
	return &entry{
		url:   subdirURL + file,
		local: strings.HasPrefix(subdirURL, "file:"),
		data:  key + ".json",
		state: key + ".info.json",
		lock:  key + ".lock",
		names: key + ".names",
	}
}

// lockEntry takes the entry's exclusive file lock, waiting for another
// process that holds it until ctx is done, or timeout when above 0.
func lockEntry(ctx context.Context, e *entry, timeout time.Duration) (*flock.Flock, error) {
	l := flock.New(e.lock)
	lockCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ok, err := l.TryLockContext(lockCtx, 20*time.Millisecond)
	switch {
	case ok && err == nil:
		return l, nil
	case ctx.Err() == nil && lockCtx.Err() != nil:
		return nil, fmt.Errorf("lock cache of %s (%s): another process has held it for more than the lock timeout (%s)", redact.URL(e.url), e.lock, timeout)
	}
	return nil, fmt.Errorf("lock cache of %s: %w", redact.URL(e.url), errors.Join(err, ctx.Err()))
}

// readState returns the entry's state and whether its validators describe
// the cached file; a missing or unreadable state is an empty one.
func readState(e *entry) (st state, valid bool) {
	b, err := os.ReadFile(e.state)
	if err != nil || json.Unmarshal(b, &st) != nil {
		return state{}, false
	}
	if st.NotFound {
		return st, true
	}
	fi, err := os.Stat(e.data)
	if err != nil || fi.Size() != st.Size || fi.ModTime().UnixNano() != st.MtimeNS {
		return state{HasZst: st.HasZst}, false
	}
	return st, true
}

// fresh reports whether the copy may be used without asking the server,
// following conda's local_repodata_ttl: 0 never, 1 for the server's
// Cache-Control max-age, otherwise for ttl seconds.
func fresh(st state, ttl int, now time.Time) bool {
	age := now.Sub(time.Unix(0, st.RefreshNS))
	switch ttl {
	case 0:
		return false
	case 1:
		return age < maxAge(st.CacheControl)
	}
	return age < time.Duration(ttl)*time.Second
}

// maxAge reads max-age from a Cache-Control header; 0 when absent.
func maxAge(cacheControl string) time.Duration {
	for part := range strings.SplitSeq(cacheControl, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}

// writeState records st for the entry, stamped with the cached file's
// size and mtime.
func writeState(e *entry, st state) error {
	if !st.NotFound {
		fi, err := os.Stat(e.data)
		if err != nil {
			return err
		}
		st.Size, st.MtimeNS = fi.Size(), fi.ModTime().UnixNano()
	}
	st.URL = redact.URL(e.url)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(e.state, 0o644, func(w io.Writer) error { _, err := w.Write(b); return err })
}
