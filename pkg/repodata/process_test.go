package repodata

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condabox/condabox/internal/testchannel/server"
)

// Environment of the helper process TestTwoProcesses starts.
const (
	envChildURL  = "REPODATA_TEST_CHILD_URL"
	envChildPkgs = "REPODATA_TEST_CHILD_PKGS"
)

// TestHelperLoad is not a test: it is the body of the processes that
// TestTwoProcesses starts from this test binary.
func TestHelperLoad(t *testing.T) {
	url := os.Getenv(envChildURL)
	if url == "" {
		t.Skip("helper process of TestTwoProcesses")
	}
	g := newGateway(t, os.Getenv(envChildPkgs), Options{TTL: 3600, DisableShards: true})
	ix, err := load(t, g, url, "python", "numpy", "pandas", "scipy")
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.Names(); !slices.Equal(got, closureNames) {
		t.Fatalf("Names = %v", got)
	}
}

// TestTwoProcesses runs two real processes loading the same channel into
// one cache at the same time. Both must succeed, and the file lock must
// make the second reuse what the first fetched.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv(envChildURL) != "" {
		t.Skip("in the helper process")
	}
	s := serve(t, writeChannel(t, testRecords), server.Options{})
	// Slow answers keep both processes in flight together.
	s.Fault("*", server.Fault{Delay: 300 * time.Millisecond})
	pkgs := t.TempDir()
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperLoad$", "-test.v")
			cmd.Env = append(os.Environ(), envChildURL+"="+s.URL(), envChildPkgs+"="+pkgs)
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || !strings.Contains(string(outs[i]), "--- PASS: TestHelperLoad") {
			t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if got := paths(s); !slices.Equal(got, []string{"linux-64/repodata.json.zst 200", "noarch/repodata.json.zst 200"}) {
		t.Errorf("requests %v, want each index fetched once", got)
	}
}
