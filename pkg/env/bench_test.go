package env

import (
	"os"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
)

// benchFile benchmarks parse on one real file of the shared data.
func benchFile(b *testing.B, rel string, parse func(string, []byte) error) {
	data, err := os.ReadFile(testchannel.RealData(b, "locks", rel))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := parse(rel, data); err != nil {
			b.Fatal(err)
		}
	}
}

func parseLock(name string, data []byte) error { _, err := ParseLock(name, data); return err }

// BenchmarkParseLockCondaLock reads robostack's turtlesim conda-lock file:
// 2,197 packages over four platforms.
func BenchmarkParseLockCondaLock(b *testing.B) {
	benchFile(b, "rattler/conda-lock/v3/robostack-turtlesim-conda-lock.yml", parseLock)
}

// BenchmarkParseLockPixi reads the same environment as a pixi v4 lock.
func BenchmarkParseLockPixi(b *testing.B) {
	benchFile(b, "rattler/conda-lock/v4/turtlesim-lock.yml", parseLock)
}

// BenchmarkParseExplicit reads ROS noetic's 568-package @EXPLICIT file.
func BenchmarkParseExplicit(b *testing.B) {
	benchFile(b, "rattler/explicit-envs/ros-noetic_linux-64.txt", func(name string, data []byte) error {
		_, err := ParseExplicit(name, data)
		return err
	})
}
