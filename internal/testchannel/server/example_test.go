package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/condabox/condabox/internal/testchannel/server"
)

// A reliability test makes the index fail once, checks that the client
// retried, and reads what went over the wire from the request log.
func Example() {
	dir, err := os.MkdirTemp("", "channel")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "noarch"), 0o755)
	os.WriteFile(filepath.Join(dir, "noarch", "repodata.json"), []byte(`{"packages":{}}`), 0o644)

	s, err := server.Start(context.Background(), dir, server.Options{Token: "secret-token"})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.Fault("repodata.json", server.Fault{Status: http.StatusServiceUnavailable, Times: 1}); err != nil {
		panic(err)
	}

	for range 2 { // the client under test would retry like this
		resp, err := http.Get(s.URL() + "/noarch/repodata.json")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	for _, r := range s.Requests() {
		fmt.Println(r)
	}
	// Output:
	// GET noarch/repodata.json 503 41B fault
	// GET noarch/repodata.json 200 15B
}
