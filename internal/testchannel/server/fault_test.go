package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pkgPath = "/linux-64/pkg-1.0-0.conda"

func TestFaultStatusThenSucceed(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, false)
	if err := s.Fault("*.conda", Fault{Status: 503, Times: 2}); err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 4 {
		got = append(got, fetch(t, client, "GET", s.URL()+pkgPath, nil).status)
	}
	if want := []int{503, 503, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	// Other paths are not affected.
	if r := fetch(t, client, "GET", s.URL()+"/noarch/repodata.json", nil); r.status != 200 {
		t.Errorf("unmatched path: status %d", r.status)
	}
	st := s.Stats()
	if st.Requests != 5 || st.Faults != 2 || st.ByStatus[503].Requests != 2 || st.ByStatus[200].Requests != 3 {
		t.Errorf("stats %+v", st)
	}
	if want := int64(2*len(c.pkg) + len(c.repo)); st.ByStatus[200].BodyBytes != want {
		t.Errorf("200 body bytes %d, want %d", st.ByStatus[200].BodyBytes, want)
	}
}

func TestFaultUntilCleared(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, false)
	if err := s.Fault("linux-64/*", Fault{Status: http.StatusTooManyRequests}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if r := fetch(t, client, "GET", s.URL()+pkgPath, nil); r.status != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429 until cleared", r.status)
		}
	}
	s.ClearFaults()
	if r := fetch(t, client, "GET", s.URL()+pkgPath, nil); r.status != 200 {
		t.Errorf("after ClearFaults: status %d", r.status)
	}
}

func TestFaultTruncate(t *testing.T) {
	c := newChannel(t)
	for _, after := range []int64{0, 1, 4096, 70_001} {
		t.Run(strconv.FormatInt(after, 10), func(t *testing.T) {
			s := start(t, c.dir, Options{})
			if err := s.Fault(pkgPath[1:], Fault{Truncate: true, TruncateAfter: after, Times: 1}); err != nil {
				t.Fatal(err)
			}
			r := fetch(t, newClient(t, false), "GET", s.URL()+pkgPath, nil)
			if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(c.pkg)) {
				t.Fatalf("status %d, Content-Length %q: want the full length announced", r.status, r.header.Get("Content-Length"))
			}
			if !errors.Is(r.err, io.ErrUnexpectedEOF) {
				t.Errorf("reading the body: err %v, want unexpected EOF", r.err)
			}
			if int64(len(r.body)) != after || !bytes.Equal(r.body, c.pkg[:after]) {
				t.Errorf("got %d body bytes, want the first %d of the file", len(r.body), after)
			}
			if logged := s.Requests()[0]; logged.BodyBytes != after || !logged.Fault {
				t.Errorf("logged %+v", logged)
			}
		})
	}
}

func TestFaultTruncateBeyondBodyIsHarmless(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	if err := s.Fault("repodata.json", Fault{Truncate: true, TruncateAfter: int64(len(c.repo))}); err != nil {
		t.Fatal(err)
	}
	r := fetch(t, newClient(t, false), "GET", s.URL()+"/noarch/repodata.json", nil)
	if r.err != nil || !bytes.Equal(r.body, c.repo) {
		t.Errorf("err %v, body %q", r.err, r.body)
	}
}

func TestFaultFlip(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	offsets := []int64{0, 4095, 4096, 99_999, 500_000} // the last is past the end: ignored
	if err := s.Fault("*.conda", Fault{FlipAt: offsets}); err != nil {
		t.Fatal(err)
	}
	client := newClient(t, false)
	r := fetch(t, client, "GET", s.URL()+pkgPath, nil)
	if r.err != nil || r.status != 200 || len(r.body) != len(c.pkg) {
		t.Fatalf("status %d, %d bytes, err %v", r.status, len(r.body), r.err)
	}
	if r.header.Get("ETag") != sha256Tag(c.pkg) {
		t.Error("ETag changed; it must stay the real file's so clients detect the corruption")
	}
	var diff []int64
	for i := range r.body {
		if r.body[i] != c.pkg[i] {
			diff = append(diff, int64(i))
		}
	}
	if want := offsets[:4]; !slices.Equal(diff, want) {
		t.Errorf("bytes differ at %v, want %v", diff, want)
	}
	// Offsets count from the start of the body, also for a range.
	r = fetch(t, client, "GET", s.URL()+pkgPath, map[string]string{"Range": "bytes=4000-4999"})
	if r.status != 206 || r.body[0] != c.pkg[4000]^0xFF || r.body[96] != c.pkg[4096] {
		t.Errorf("range: status %d; body offset 0 must be flipped, 96 not", r.status)
	}
}

func TestFaultReset(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	if err := s.Fault("*.conda", Fault{Reset: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	client := newClient(t, false)
	r := fetch(t, client, "GET", s.URL()+pkgPath, nil)
	if !errors.Is(r.err, syscall.ECONNRESET) {
		t.Fatalf("err %v, want connection reset", r.err)
	}
	if r := fetch(t, client, "GET", s.URL()+pkgPath, nil); r.status != 200 {
		t.Errorf("after the reset: status %d", r.status)
	}
	if st := s.Stats(); st.ByStatus[0].Requests != 1 || st.ByStatus[0].BodyBytes != 0 {
		t.Errorf("stats %+v: want one reset logged with status 0", st)
	}
}

// The slow faults are checked by lower bounds only: a timer never fires
// early, so these cannot fail on a loaded machine.
func TestFaultDelay(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	const delay = 200 * time.Millisecond
	if err := s.Fault("repodata.json", Fault{Delay: delay, Status: 500, Times: 1}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	r := fetch(t, newClient(t, false), "GET", s.URL()+"/noarch/repodata.json", nil)
	if took := time.Since(begin); took < delay || r.status != 500 {
		t.Errorf("status %d after %v, want 500 after at least %v", r.status, took, delay)
	}
}

func TestFaultDelayEndsWhenClientLeaves(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	if err := s.Fault("repodata.json", Fault{Delay: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/noarch/repodata.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, false).Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the client's deadline", err)
	}
	// Requests waits for the handler: it returns only if the delay stopped.
	if got := s.Requests(); len(got) != 1 || got[0].Status != 0 {
		t.Errorf("logged %+v, want one request with no response", got)
	}
}

func TestFaultTrickle(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	const pause, chunk = 5 * time.Millisecond, 8
	if err := s.Fault("repodata.json", Fault{Trickle: pause, TrickleChunk: chunk}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	r := fetch(t, newClient(t, false), "GET", s.URL()+"/noarch/repodata.json", nil)
	took := time.Since(begin)
	if r.err != nil || !bytes.Equal(r.body, c.repo) {
		t.Fatalf("err %v, body %q: a trickled body must arrive whole", r.err, r.body)
	}
	chunks := (len(c.repo) + chunk - 1) / chunk
	if min := time.Duration(chunks) * pause; took < min {
		t.Errorf("took %v, want at least %d pauses = %v", took, chunks, min)
	}
}

func TestFaultValidation(t *testing.T) {
	s := start(t, t.TempDir(), Options{})
	for _, tc := range []struct {
		pattern string
		fault   Fault
		want    string
	}{
		{"[", Fault{Status: 500}, `fault pattern "["`},
		{"*", Fault{Times: -1}, "times -1 is negative"},
		{"*", Fault{Status: 100}, "status 100 is not a final HTTP status"},
		{"*", Fault{Status: 600}, "status 600"},
		{"*", Fault{Delay: -time.Second}, "negative delay"},
		{"*", Fault{TrickleChunk: -1}, "trickle chunk -1"},
		{"*", Fault{Truncate: true, TruncateAfter: -5}, "truncate after -5"},
		{"*", Fault{FlipAt: []int64{3, -1}}, "flip offset -1"},
		{"*", Fault{Reset: true, Status: 500}, "reset sends no response"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			err := s.Fault(tc.pattern, tc.fault)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestFaultPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.conda", "linux-64/pkg-1.0-0.conda", true},
		{"*.conda", "linux-64/pkg-1.0-0.tar.bz2", false},
		{"repodata.json", "noarch/repodata.json", true},
		{"repodata.json", "noarch/repodata.json.zst", false},
		{"*/repodata.json", "linux-64/repodata.json", true},
		{"linux-64/*", "noarch/repodata.json", false},
		{"linux-64/shards/*.msgpack.zst", "linux-64/shards/ab12.msgpack.zst", true},
		{"*", "linux-64/pkg-1.0-0.conda", true},
	} {
		if got := matches(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestFirstMatchingFaultApplies(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, false)
	if err := s.Fault("*.conda", Fault{Status: 502, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Fault("linux-64/*", Fault{Status: 504, Times: 1}); err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 3 {
		got = append(got, fetch(t, client, "GET", s.URL()+pkgPath, nil).status)
	}
	if want := []int{502, 504, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestCloseOnContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, newChannel(t).dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, false)
	if r := fetch(t, client, "GET", s.URL()+"/noarch/repodata.json", nil); r.status != 200 {
		t.Fatalf("status %d before cancel", r.status)
	}
	cancel()
	// The server closes in a goroutine; poll until it refuses connections.
	deadline := time.Now().Add(10 * time.Second)
	for fetch(t, client, "GET", s.URL()+"/noarch/repodata.json", nil).err == nil {
		if time.Now().After(deadline) {
			t.Fatal("server still answers 10s after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
