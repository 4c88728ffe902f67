package solve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// randomProblem builds a small index and request from a byte stream, so
// that the same generator serves the seeded test and the fuzz target.
// Up to five names with up to three versions each, random depends and
// constrains between them: small enough to enumerate every environment.
func randomProblem(t testing.TB, next func(n int) int) (index, []conda.MatchSpec) {
	ops := []string{">=", "<", "==", "!="}
	names := []string{"a", "b", "c", "d", "e"}[:2+next(4)]
	spec := func() string {
		return fmt.Sprintf("%s %s%d", names[next(len(names))], ops[next(len(ops))], 1+next(3))
	}
	ix := index{}
	for _, n := range names {
		for v := 1; v <= 1+next(3); v++ {
			var ds, cs []string
			for range next(3) {
				ds = append(ds, spec())
			}
			if next(3) == 0 {
				cs = append(cs, spec())
			}
			ix.add(rec(t, fmt.Sprintf("%s %d", n, v), deps(ds...), cons(cs...)))
		}
	}
	var want []string
	for range 1 + next(2) {
		want = append(want, spec())
	}
	return ix, specs(t, want...)
}

// bruteForce reports whether some environment (each name absent or one of
// its records) satisfies specs, by trying them all.
func bruteForce(ix index) func(specs []conda.MatchSpec) bool {
	var names []string
	for n := range ix {
		names = append(names, n)
	}
	return func(specs []conda.MatchSpec) bool {
		var env []conda.PackageRecord
		var try func(i int) bool
		try = func(i int) bool {
			if i == len(names) {
				return Validate(env, specs) == nil
			}
			if try(i + 1) {
				return true
			}
			for _, r := range ix[names[i]] {
				env = append(env, r)
				ok := try(i + 1)
				env = env[:len(env)-1]
				if ok {
					return true
				}
			}
			return false
		}
		return try(0)
	}
}

// checkComplete solves a problem and compares with brute force: the
// solver must find a valid answer exactly when one exists.
func checkComplete(t *testing.T, ix index, want []conda.MatchSpec) {
	t.Helper()
	got, err := solveValid(t, ix, Request{Specs: want})
	exists := bruteForce(ix)(want)
	var unsat *UnsatisfiableError
	switch {
	case err == nil && !exists:
		t.Fatalf("solved %v for %v, but brute force finds no environment", dists(got), want)
	case err != nil && !errors.As(err, &unsat):
		t.Fatalf("unexpected error: %v", err)
	case err != nil && exists:
		t.Fatalf("unsatisfiable for %v, but brute force finds an environment:\n%v", want, err)
	case err != nil && len(unsat.Problems) == 0:
		t.Fatalf("unsatisfiable without a problem line: %v", err)
	}
}

// TestCompleteAgainstBruteForce: 3000 random problems.
func TestCompleteAgainstBruteForce(t *testing.T) {
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		ix, want := randomProblem(t, rng.IntN)
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkComplete(t, ix, want) })
	}
}

func FuzzSolve(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{3, 2, 2, 1, 0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 2, 1, 1, 0, 2, 2, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func(n int) int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b) % n
		}
		ix, want := randomProblem(t, next)
		checkComplete(t, ix, want)
	})
}

// TestSolveIsDeterministic: the same problem gives the same answer.
func TestSolveIsDeterministic(t *testing.T) {
	ix := sudokuIndex(t)
	req := Request{Specs: sudokuSpecs(t, puzzles["17-clues"])}
	first, err := Solve(context.Background(), ix, req)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := Solve(context.Background(), ix, req)
		if err != nil || fmt.Sprint(dists(again)) != fmt.Sprint(dists(first)) {
			t.Fatalf("second solve differs: %v %v", err, dists(again))
		}
	}
}
