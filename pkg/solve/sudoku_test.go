package solve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// Sudoku puzzles, row by row, '.' for an empty cell.
var puzzles = map[string]string{
	"easy":        "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79",
	"ai-escargot": "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
	"inkala-2012": "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
	"17-clues":    ".......1.4.........2...........5.4.7..8...3....1.9....3..4..2...5.1........8.6...",
	"empty":       strings.Repeat(".", 81),
}

// sudokuIndex is a correct encoding: cell (r, c) holding digit d is the
// record sudoku_r_c version d, which depends on each of its 20 peers (same
// row, column or box) holding another digit.
func sudokuIndex(t testing.TB) index {
	ix := index{}
	for r := range 9 {
		for c := range 9 {
			for d := 1; d <= 9; d++ {
				var peers []string
				for r2 := range 9 {
					for c2 := range 9 {
						same := r2 == r || c2 == c || (r2/3 == r/3 && c2/3 == c/3)
						if same && (r2 != r || c2 != c) {
							peers = append(peers, fmt.Sprintf("sudoku_%d_%d !=%d", r2, c2, d))
						}
					}
				}
				ix.add(rec(t, fmt.Sprintf("sudoku_%d_%d %d", r, c, d), deps(peers...), noarch(conda.NoarchGeneric)))
			}
		}
	}
	return ix
}

// sudokuSpecs requests every cell, givens at their digit.
func sudokuSpecs(t testing.TB, puzzle string) []conda.MatchSpec {
	var texts []string
	for i, ch := range puzzle {
		cell := fmt.Sprintf("sudoku_%d_%d", i/9, i%9)
		if ch != '.' {
			cell += " ==" + string(ch)
		}
		texts = append(texts, cell)
	}
	return specs(t, texts...)
}

// grid reads a solution back as 81 digits.
func grid(t testing.TB, recs []conda.PackageRecord) [81]int {
	var g [81]int
	for _, r := range recs {
		var row, col int
		if _, err := fmt.Sscanf(r.Name, "sudoku_%d_%d", &row, &col); err != nil {
			t.Fatalf("unexpected record %s", r.Dist())
		}
		fmt.Sscanf(r.Version.String(), "%d", &g[row*9+col])
	}
	return g
}

// validGrid reports why a filled grid breaks the rules, or "".
func validGrid(g [81]int) string {
	for i := range 9 {
		var row, col, box [10]bool
		for j := range 9 {
			a, b := g[i*9+j], g[j*9+i]
			c := g[(i/3*3+j/3)*9+i%3*3+j%3]
			if a < 1 || row[a] || b < 1 || col[b] || c < 1 || box[c] {
				return fmt.Sprintf("row, column or box %d repeats or misses a digit", i)
			}
			row[a], col[b], box[c] = true, true, true
		}
	}
	return ""
}

func TestSudoku(t *testing.T) {
	ix := sudokuIndex(t)
	for name, puzzle := range puzzles {
		t.Run(name, func(t *testing.T) {
			got, err := solveValid(t, ix, Request{Specs: sudokuSpecs(t, puzzle)})
			if err != nil {
				t.Fatal(err)
			}
			g := grid(t, got)
			if why := validGrid(g); why != "" {
				t.Fatalf("%v: %s", g, why)
			}
			for i, ch := range puzzle {
				if ch != '.' && int(ch-'0') != g[i] {
					t.Errorf("given %c at cell %d became %d", ch, i, g[i])
				}
			}
		})
	}
}

// TestSudokuContradictoryGivens: two 5s in the first row.
func TestSudokuContradictoryGivens(t *testing.T) {
	puzzle := "5.......5" + strings.Repeat(".", 72)
	_, err := Solve(context.Background(), sudokuIndex(t), Request{Specs: sudokuSpecs(t, puzzle)})
	var unsat *UnsatisfiableError
	if !errors.As(err, &unsat) {
		t.Fatalf("got %v, want unsatisfiable", err)
	}
	for _, frag := range []string{"sudoku_0_0 5 was requested", "sudoku_0_8 5 0 requires sudoku_0_0 !=5"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("explanation lacks %q:\n%v", frag, err)
		}
	}
}

// TestSudokuFaultyRealChannel: mamba's sudoku channel constrains cells
// outside their row, column and box, so even the empty puzzle has no
// solution; libsolv and rattler prove that too.
func TestSudokuFaultyRealChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("the proof takes about 45,000 conflicts (seconds): skipped with -short")
	}
	ix := loadRepodata(t, realdata(t, "repodata/sudoku/noarch/repodata.json"), "sudoku")
	_, err := Solve(context.Background(), ix, Request{Specs: sudokuSpecs(t, puzzles["empty"])})
	var unsat *UnsatisfiableError
	if !errors.As(err, &unsat) {
		t.Fatalf("got %v, want unsatisfiable", err)
	}
	if len(unsat.Problems) == 0 || !strings.Contains(unsat.Problems[0], "sudoku_") {
		t.Errorf("explanation does not name sudoku packages:\n%v", err)
	}
	t.Logf("%d problem lines, explanation %d bytes", len(unsat.Problems), len(err.Error()))
}

// BenchmarkSudoku solves the hard puzzles on the correct encoding and
// proves the faulty real channel unsatisfiable.
func BenchmarkSudoku(b *testing.B) {
	ix := sudokuIndex(b)
	for _, name := range []string{"ai-escargot", "inkala-2012", "17-clues"} {
		req := Request{Specs: sudokuSpecs(b, puzzles[name])}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Solve(context.Background(), ix, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("faulty-real-channel", func(b *testing.B) {
		ix := loadRepodata(b, realdata(b, "repodata/sudoku/noarch/repodata.json"), "sudoku")
		req := Request{Specs: sudokuSpecs(b, puzzles["empty"])}
		for b.Loop() {
			if _, err := Solve(context.Background(), ix, req); err == nil {
				b.Fatal("solved the faulty sudoku")
			}
		}
	})
}
