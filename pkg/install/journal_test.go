package install

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseJournal(t *testing.T) {
	begin := `{"op":"begin","link":["a-1-0"],"history_size":-1}`
	create := `{"op":"create","paths":["bin/a"]}`
	tests := []struct {
		name, in string
		ops      []string
		err      string
	}{
		{"empty (crash before the begin line)", "", nil, ""},
		{"complete lines", begin + "\n" + create + "\n", []string{"begin", "create"}, ""},
		{"torn last line ignored", begin + "\n" + `{"op":"cre`, []string{"begin"}, ""},
		{"committed", begin + "\n" + `{"op":"commit"}` + "\n", []string{"begin", "commit"}, ""},
		{"garbage in the middle", begin + "\nxx\n" + create + "\n", nil, "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseJournal([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, e := range got {
				ops = append(ops, e.Op)
			}
			if strings.Join(ops, ",") != strings.Join(tc.ops, ",") {
				t.Errorf("ops %v, want %v", ops, tc.ops)
			}
		})
	}
}

// FuzzParseJournal checks that any journal either parses into entries that
// encode back to its lines, or fails with an error, never a panic.
func FuzzParseJournal(f *testing.F) {
	f.Add([]byte(`{"op":"begin","history_size":3}` + "\n" + `{"op":"create","paths":["a","b/c"]}` + "\n"))
	f.Add([]byte(`{"op":"commit"}`))
	f.Add([]byte("\n\n{\"op\":"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseJournal(b)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			again = append(append(again, line...), '\n')
		}
		back, err := parseJournal(again)
		if err != nil || len(back) != len(entries) {
			t.Fatalf("re-encoded journal: %d entries, %v; want %d", len(back), err, len(entries))
		}
	})
}

// TestRecover checks both ways out of an interrupted transaction, on a
// journal written by hand: without a commit line the prefix goes back,
// with one the transaction is finished.
func TestRecover(t *testing.T) {
	for _, committed := range []bool{false, true} {
		prefix := t.TempDir()
		write := func(rel, content string) {
			name := filepath.Join(prefix, filepath.FromSlash(rel))
			must(t, os.MkdirAll(filepath.Dir(name), 0o755))
			must(t, os.WriteFile(name, []byte(content), 0o644))
		}
		write("conda-meta/history", "old\nnew\n")
		write(trashName+"/bin/tool", "old tool")          // replaced by the transaction
		write(trashName+"/conda-meta/old-1-0.json", "{}") // unlinked record
		write("bin/tool", "new tool")
		write("share/new/data", "new")
		journal := `{"op":"begin","history_size":4}` + "\n" + `{"op":"create","paths":["bin/tool","share/new/data","conda-meta/new-1-0.json"]}` + "\n"
		if committed {
			journal += `{"op":"commit"}` + "\n"
		}
		write(journalName, journal)

		ok, err := Recover(prefix)
		if err != nil || !ok {
			t.Fatalf("committed=%v: Recover = %v, %v", committed, ok, err)
		}
		want := map[string]string{"conda-meta/history": "old\n", "bin/tool": "old tool", "conda-meta/old-1-0.json": "{}"}
		if committed {
			want = map[string]string{"conda-meta/history": "old\nnew\n", "bin/tool": "new tool", "share/new/data": "new"}
		}
		if got := snapshot(t, prefix); !maps.Equal(got, want) {
			t.Errorf("committed=%v: prefix after recovery %v, want %v", committed, got, want)
		}
		if _, err := os.Stat(filepath.Join(prefix, "share")); !committed && !os.IsNotExist(err) {
			t.Errorf("rollback left the directory share/ it emptied (%v)", err)
		}
		if ok, err := Recover(prefix); ok || err != nil {
			t.Errorf("second Recover = %v, %v, want nothing to do", ok, err)
		}
	}
}

// TestConcurrentTransactions runs two transactions on one prefix at once:
// the prefix lock serializes them, so the prefix ends as one of the two
// targets, consistent.
func TestConcurrentTransactions(t *testing.T) {
	root := t.TempDir()
	var a, b []*Package
	for i := range 6 {
		name := string(rune('a' + i))
		a = append(a, testPkg{name: "a" + name, files: []testFile{{path: "share/shared.txt", content: "a" + name}, {path: "share/a" + name, content: name}}}.write(t, filepath.Join(root, "pkgs")))
		b = append(b, testPkg{name: "b" + name, files: []testFile{{path: "share/shared.txt", content: "b" + name}, {path: "share/b" + name, content: name}}}.write(t, filepath.Join(root, "pkgs")))
	}
	prefix := filepath.Join(root, "env")
	errs := make(chan error, 2)
	for _, target := range [][]*Package{a, b} {
		go func() {
			_, err := Sync(context.Background(), prefix, target, Options{})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := installedDists(t, prefix)
	if len(got) != 6 || (got[0][0] != 'a' && got[0][0] != 'b') || got[0][0] != got[5][0] {
		t.Errorf("installed %v, want all of a or all of b", got)
	}
}
