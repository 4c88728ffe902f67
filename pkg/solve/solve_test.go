package solve

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// nameVersions returns "name=version" for each record, sorted.
func nameVersions(recs []conda.PackageRecord) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].Name + "=" + recs[i].Version.String()
	}
	slices.Sort(out)
	return out
}

// TestRules checks each semantic rule on a small hand-made index. want
// lists the exact environment as sorted name=version; wantErr lists
// fragments the unsatisfiable explanation must contain.
func TestRules(t *testing.T) {
	glibc := rec(t, "__glibc 2.28 0", channel("@"))
	type request struct {
		specs, pinned, update, remove []string
		installed                     []conda.PackageRecord
		channels                      []string
		priority                      ChannelPriority
		virtual                       []conda.PackageRecord
	}
	tests := []struct {
		name    string
		records []conda.PackageRecord
		req     request
		want    []string
		wantErr []string
	}{{
		name: "depends pulls the best matching dependency",
		records: []conda.PackageRecord{
			rec(t, "a 1", deps("b >=2,<3")), rec(t, "b 1"), rec(t, "b 2"), rec(t, "b 3"),
		},
		req:  request{specs: []string{"a"}},
		want: []string{"a=1", "b=2"},
	}, {
		name:    "highest version of a requested name",
		records: []conda.PackageRecord{rec(t, "a 1.10"), rec(t, "a 1.9"), rec(t, "a 1.2")},
		req:     request{specs: []string{"a"}},
		want:    []string{"a=1.10"},
	}, {
		name: "then highest build number, then newest timestamp",
		records: []conda.PackageRecord{
			rec(t, "a 1 old", buildNum(1), stamp(5)), rec(t, "a 1 best", buildNum(2), stamp(1)),
			rec(t, "a 1 newer", buildNum(2), stamp(9)), rec(t, "b 1 x", stamp(1)), rec(t, "b 1 y", stamp(2)),
		},
		req:  request{specs: []string{"a", "b"}},
		want: []string{"a=1", "b=1"},
	}, {
		name: "requested versions matter more than dependencies' versions",
		records: []conda.PackageRecord{
			rec(t, "a 2", deps("c 1.*")), rec(t, "a 1", deps("c")), rec(t, "c 1"), rec(t, "c 2"),
		},
		req:  request{specs: []string{"a"}},
		want: []string{"a=2", "c=1"},
	}, {
		name: "versions of all requested names come before builds",
		records: []conda.PackageRecord{
			rec(t, "a 2 hi", buildNum(1), deps("b <3")), rec(t, "a 2 lo", buildNum(0)),
			rec(t, "b 3"), rec(t, "b 2"),
		},
		req:  request{specs: []string{"a", "b"}},
		want: []string{"a=2", "b=3"},
	}, {
		name: "search backtracks to satisfy every request",
		records: []conda.PackageRecord{
			rec(t, "a 2", deps("c 1.*")), rec(t, "a 1", deps("c 2.*")), rec(t, "b 1", deps("c >=2")),
			rec(t, "c 1"), rec(t, "c 2"),
		},
		req:  request{specs: []string{"a", "b"}},
		want: []string{"a=1", "b=1", "c=2"},
	}, {
		name: "constrains limit a package that is installed",
		records: []conda.PackageRecord{
			rec(t, "a 1", cons("b <2")), rec(t, "b 1"), rec(t, "b 2"),
		},
		req:  request{specs: []string{"a", "b"}},
		want: []string{"a=1", "b=1"},
	}, {
		name:    "constrains do not install anything",
		records: []conda.PackageRecord{rec(t, "a 1", cons("b <2")), rec(t, "b 1")},
		req:     request{specs: []string{"a"}},
		want:    []string{"a=1"},
	}, {
		name: "constrains against a request is unsatisfiable",
		records: []conda.PackageRecord{
			rec(t, "a 1", cons("b <2")), rec(t, "b 2"),
		},
		req:     request{specs: []string{"a", "b >=2"}},
		wantErr: []string{"a 1 0 constrains b <2 but b >=2 was requested"},
	}, {
		name: "a record with track_features ranks below all without",
		records: []conda.PackageRecord{
			rec(t, "blas 2 mkl", tracks("mkl")), rec(t, "blas 1 openblas"),
			rec(t, "blas 1 mkl", tracks("mkl"), buildNum(9)),
		},
		req:  request{specs: []string{"blas"}},
		want: []string{"blas=1"},
	}, {
		name: "track_features are minimised among dependencies too",
		records: []conda.PackageRecord{
			rec(t, "numpy 1", deps("blas")), rec(t, "blas 1 mkl", tracks("mkl"), buildNum(3)),
			rec(t, "blas 1 openblas"),
		},
		req:  request{specs: []string{"numpy"}},
		want: []string{"blas=1", "numpy=1"},
	}, {
		name:    "tracked record chosen when a request asks for it",
		records: []conda.PackageRecord{rec(t, "blas 1 mkl", tracks("mkl")), rec(t, "blas 1 openblas")},
		req:     request{specs: []string{"blas * mkl"}},
		want:    []string{"blas=1"},
	}, {
		name: "a record with features pulls in its feature and ranks below",
		records: []conda.PackageRecord{
			rec(t, "torch 2 cpu", buildNum(5), func(r *conda.PackageRecord) { r.Features = "cpuonly" }),
			rec(t, "torch 2 cuda"), rec(t, "torch 1 cpu", func(r *conda.PackageRecord) { r.Features = "cpuonly" }),
		},
		req:  request{specs: []string{"torch"}},
		want: []string{"torch=2"},
	}, {
		name:    "features are honoured when requested",
		records: []conda.PackageRecord{rec(t, "torch 2 cuda"), rec(t, "torch 1 cpu", func(r *conda.PackageRecord) { r.Features = "cpuonly" })},
		req:     request{specs: []string{"torch * cpu"}},
		want:    []string{"torch=1"},
	}, {
		name:    "constrains on a virtual package the system has",
		records: []conda.PackageRecord{rec(t, "cuda-version 12.5", cons("__cuda >=12.1")), rec(t, "cuda-version 11.8", cons("__cuda >=11.2"))},
		req:     request{specs: []string{"cuda-version"}, virtual: []conda.PackageRecord{rec(t, "__cuda 11.4 0", channel("@"))}},
		want:    []string{"cuda-version=11.8"},
	}, {
		name:    "virtual package supplied by the caller",
		records: []conda.PackageRecord{rec(t, "a 2", deps("__glibc >=2.34")), rec(t, "a 1", deps("__glibc >=2.17"))},
		req:     request{specs: []string{"a"}, virtual: []conda.PackageRecord{glibc}},
		want:    []string{"a=1"},
	}, {
		name:    "missing virtual package is unsatisfiable",
		records: []conda.PackageRecord{rec(t, "a 1", deps("__cuda >=12"))},
		req:     request{specs: []string{"a"}, virtual: []conda.PackageRecord{glibc}},
		wantErr: []string{"nothing provides __cuda >=12 needed by a 1 0", "virtual package"},
	}, {
		name: "noarch records sit alongside the platform's",
		records: []conda.PackageRecord{
			rec(t, "app 1", deps("pure")), func() conda.PackageRecord {
				r := rec(t, "pure 3 pyh_0", noarch(conda.NoarchGeneric))
				r.Subdir = "noarch"
				return r
			}(),
		},
		req:  request{specs: []string{"app"}},
		want: []string{"app=1", "pure=3"},
	}, {
		name:    "strict priority: only the first channel that has the name",
		records: []conda.PackageRecord{rec(t, "a 1", channel("high")), rec(t, "a 2", channel("low"))},
		req:     request{specs: []string{"a"}, channels: []string{"high", "low"}},
		want:    []string{"a=1"},
	}, {
		name:    "strict priority: lower channels' versions are not candidates",
		records: []conda.PackageRecord{rec(t, "a 1", channel("high")), rec(t, "a 2", channel("low"))},
		req:     request{specs: []string{"a >=2"}, channels: []string{"high", "low"}},
		wantErr: []string{"nothing provides requested a >=2", "strict channel priority"},
	}, {
		name:    "flexible priority: prefer the first channel",
		records: []conda.PackageRecord{rec(t, "a 1", channel("high")), rec(t, "a 2", channel("low"))},
		req:     request{specs: []string{"a"}, channels: []string{"high", "low"}, priority: Flexible},
		want:    []string{"a=1"},
	}, {
		name:    "flexible priority: allow lower channels",
		records: []conda.PackageRecord{rec(t, "a 1", channel("high")), rec(t, "a 2", channel("low"))},
		req:     request{specs: []string{"a >=2"}, channels: []string{"high", "low"}, priority: Flexible},
		want:    []string{"a=2"},
	}, {
		name:    "disabled priority: versions decide",
		records: []conda.PackageRecord{rec(t, "a 1", channel("high")), rec(t, "a 2", channel("low"))},
		req:     request{specs: []string{"a"}, channels: []string{"high", "low"}, priority: Disabled},
		want:    []string{"a=2"},
	}, {
		name:    "channel::name overrides strict priority",
		records: []conda.PackageRecord{rec(t, "a 2", channel("high")), rec(t, "a 1", channel("low"))},
		req:     request{specs: []string{"low::a"}, channels: []string{"high", "low"}},
		want:    []string{"a=1"},
	}, {
		name:    "installed packages stay as they are",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "a 2"), rec(t, "b 1")},
		req:     request{specs: []string{"b"}, installed: []conda.PackageRecord{rec(t, "a 1")}},
		want:    []string{"a=1", "b=1"},
	}, {
		name:    "installed packages change when a request needs it",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "a 2"), rec(t, "a 3"), rec(t, "b 1", deps("a >=2"))},
		req:     request{specs: []string{"b"}, installed: []conda.PackageRecord{rec(t, "a 1")}},
		want:    []string{"a=3", "b=1"},
	}, {
		name:    "installed packages missing from the channels stay",
		records: []conda.PackageRecord{rec(t, "b 1")},
		req:     request{specs: []string{"b"}, installed: []conda.PackageRecord{rec(t, "gone 1")}},
		want:    []string{"b=1", "gone=1"},
	}, {
		name:    "update prefers the newest",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "a 2"), rec(t, "c 1")},
		req:     request{update: []string{"a"}, installed: []conda.PackageRecord{rec(t, "a 1"), rec(t, "c 1")}},
		want:    []string{"a=2", "c=1"},
	}, {
		name:    "remove takes out a package and what depends on it",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "b 1", deps("a")), rec(t, "c 1")},
		req: request{remove: []string{"a"}, installed: []conda.PackageRecord{
			rec(t, "a 1"), rec(t, "b 1", deps("a")), rec(t, "c 1"),
		}},
		want: []string{"c=1"},
	}, {
		name:    "pinned specs hold without requesting the name",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "a 2"), rec(t, "b 1", deps("a")), rec(t, "z 1")},
		req:     request{specs: []string{"b"}, pinned: []string{"a <2", "z 1"}},
		want:    []string{"a=1", "b=1"},
	}, {
		name:    "a request against a pin is unsatisfiable",
		records: []conda.PackageRecord{rec(t, "a 1"), rec(t, "a 2")},
		req:     request{specs: []string{"a >=2"}, pinned: []string{"a <2"}},
		wantErr: []string{"nothing provides requested a >=2", "violates the pin a <2"},
	}, {
		name:    "missing requested package",
		records: []conda.PackageRecord{rec(t, "a 1")},
		req:     request{specs: []string{"nope"}},
		wantErr: []string{"nothing provides requested nope"},
	}, {
		name:    "missing dependency",
		records: []conda.PackageRecord{rec(t, "a 1", deps("x >=1"))},
		req:     request{specs: []string{"a"}},
		wantErr: []string{"nothing provides x >=1 needed by a 1 0"},
	}, {
		name: "conflicting requirements name both sides",
		records: []conda.PackageRecord{
			rec(t, "numpy 1.26.4 py312_0", deps("python >=3.12,<3.13")),
			rec(t, "python 3.11.9"), rec(t, "python 3.12.1"),
		},
		req:     request{specs: []string{"python 3.11.*", "numpy"}},
		wantErr: []string{"numpy 1.26.4 py312_0 requires python >=3.12,<3.13 but python 3.11.* was requested"},
	}, {
		name:    "a dependency that does not parse makes its record unusable",
		records: []conda.PackageRecord{rec(t, "a 2", deps("b >=>1")), rec(t, "a 1"), rec(t, "b 1")},
		req:     request{specs: []string{"a"}},
		want:    []string{"a=1"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{
				Specs:           specs(t, tc.req.specs...),
				Pinned:          specs(t, tc.req.pinned...),
				Update:          tc.req.update,
				Remove:          tc.req.remove,
				Installed:       tc.req.installed,
				Channels:        channels(t, tc.req.channels...),
				ChannelPriority: tc.req.priority,
				Virtual:         tc.req.virtual,
			}
			got, err := solveValid(t, index{}.add(tc.records...), req)
			if tc.wantErr != nil {
				var unsat *UnsatisfiableError
				if !errors.As(err, &unsat) {
					t.Fatalf("got %v, %v; want unsatisfiable", dists(got), err)
				}
				for _, frag := range tc.wantErr {
					if !strings.Contains(err.Error(), frag) {
						t.Errorf("explanation lacks %q:\n%v", frag, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if gotNV := nameVersions(got); !slices.Equal(gotNV, tc.want) {
				t.Errorf("got %v, want %v", gotNV, tc.want)
			}
		})
	}
}

// TestPreferredBuild checks which build wins among equal versions.
func TestPreferredBuild(t *testing.T) {
	ix := index{}.add(
		rec(t, "a 1 old", buildNum(1), stamp(5)), rec(t, "a 1 newer", buildNum(2), stamp(9)),
		rec(t, "a 1 older", buildNum(2), stamp(1)), rec(t, "a 1 tracked", buildNum(7), tracks("x")),
	)
	got, err := solveValid(t, ix, Request{Specs: specs(t, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Build != "newer" {
		t.Fatalf("got %v, want a-1-newer", dists(got))
	}
}

// TestInstallOrder checks dependencies come first, python comes before
// noarch python packages, and cycles still give every record once.
func TestInstallOrder(t *testing.T) {
	ix := index{}.add(
		rec(t, "app 1", deps("lib", "aaa-pure")), rec(t, "lib 1", deps("zlib")), rec(t, "zlib 1"),
		rec(t, "aaa-pure 1", noarch(conda.NoarchPython)), rec(t, "python 3.12"),
		rec(t, "cyc-a 1", deps("cyc-b")), rec(t, "cyc-b 1", deps("cyc-a")),
	)
	got, err := solveValid(t, ix, Request{Specs: specs(t, "app", "python", "cyc-a")})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, r := range got {
		pos[r.Name] = i
	}
	for _, edge := range [][2]string{{"zlib", "lib"}, {"lib", "app"}, {"aaa-pure", "app"}, {"python", "aaa-pure"}} {
		if pos[edge[0]] > pos[edge[1]] {
			t.Errorf("%s after %s in %v", edge[0], edge[1], dists(got))
		}
	}
	if len(got) != 7 {
		t.Errorf("got %d records, want 7: %v", len(got), dists(got))
	}
	again, _ := Solve(context.Background(), ix, Request{Specs: specs(t, "app", "python", "cyc-a")})
	if !slices.Equal(dists(got), dists(again)) {
		t.Errorf("order differs between runs: %v and %v", dists(got), dists(again))
	}
}

// TestRecordsCarryURLAndChecksums checks the output records are the
// source's records, not copies that lost fields.
func TestRecordsCarryURLAndChecksums(t *testing.T) {
	r := rec(t, "a 1")
	r.SHA256, r.MD5, r.Size = strings.Repeat("ab", 32), strings.Repeat("cd", 16), 42
	got, err := solveValid(t, index{}.add(r), Request{Specs: specs(t, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].URL != r.URL || got[0].SHA256 != r.SHA256 || got[0].MD5 != r.MD5 || got[0].Size != 42 {
		t.Fatalf("got %+v, want URL and checksums of %+v", got[0], r)
	}
}

// TestUnsatisfiableJSON checks the JSON form carries the problems and the
// tree.
func TestUnsatisfiableJSON(t *testing.T) {
	ix := index{}.add(rec(t, "a 1", deps("b 2.*")), rec(t, "b 1"), rec(t, "b 2"))
	_, err := Solve(context.Background(), ix, Request{Specs: specs(t, "a", "b 1.*")})
	var unsat *UnsatisfiableError
	if !errors.As(err, &unsat) {
		t.Fatalf("got %v, want *UnsatisfiableError", err)
	}
	data, err := json.Marshal(unsat)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Problems []string
		Tree     []Problem
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Problems) == 0 || !strings.Contains(doc.Problems[0], "a 1 0 requires b 2.* but b 1.* was requested") {
		t.Errorf("problems = %q", doc.Problems)
	}
	if len(doc.Tree) != 2 {
		t.Errorf("tree has %d roots, want one per requested spec: %s", len(doc.Tree), data)
	}
}

// TestBadRequest checks requests Solve refuses outright.
func TestBadRequest(t *testing.T) {
	_, err := Solve(context.Background(), index{}, Request{Specs: specs(t, "num*")})
	if err == nil || !strings.Contains(err.Error(), `"num*"`) {
		t.Fatalf("got %v, want an error quoting the pattern", err)
	}
}

// TestCancel checks a done context stops the solve.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Solve(ctx, index{}.add(rec(t, "a 1")), Request{Specs: specs(t, "a")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestExcludeNewer: records uploaded after ExcludeNewer are left out (the
// newest version, and the build of a dependency), records without a
// timestamp and installed ones stay, and a request only newer records meet
// is explained by the date.
func TestExcludeNewer(t *testing.T) {
	day := func(d int) int64 { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC).UnixMilli() }
	ix := index{}.add(
		rec(t, "a 1", stamp(day(1)), deps("b")), rec(t, "a 2", stamp(day(20)), deps("b")),
		rec(t, "b 1", stamp(day(2))), rec(t, "b 1 new", buildNum(1), stamp(day(21))),
		rec(t, "c 1"),                                                         // no timestamp
		rec(t, "d 1", stamp(day(1)/1000)), rec(t, "d 2", stamp(day(25)/1000)), // old records count seconds
	)
	cutoff := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	got, err := solveValid(t, ix, Request{Specs: specs(t, "a", "c", "d"), ExcludeNewer: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b-1-0", "a-1-0", "c-1-0", "d-1-0"}; !slices.Equal(dists(got), want) {
		t.Errorf("got %v, want %v", dists(got), want)
	}
	// An installed record newer than the cutoff stays installed.
	installed := rec(t, "a 2", stamp(day(20)), deps("b"))
	if got, err := solveValid(t, ix, Request{Installed: []conda.PackageRecord{installed, rec(t, "b 1", stamp(day(2)))}, Specs: specs(t, "c"), ExcludeNewer: cutoff}); err != nil || !slices.Contains(dists(got), "a-2-0") {
		t.Errorf("installed a 2: %v, %v", dists(got), err)
	}
	_, err = solveValid(t, ix, Request{Specs: specs(t, "a 2"), ExcludeNewer: cutoff})
	if err == nil || !strings.Contains(err.Error(), "after --exclude-newer 2024-01-10T00:00:00Z") {
		t.Errorf("a 2 before its upload: %v", err)
	}
}
