package repodata

import "io"

// asyncWriter passes writes to a goroutine, so that writing a downloaded
// index to the cache overlaps decompressing and scanning it instead of
// adding to them. A few chunk buffers cycle between the two sides, which
// bounds memory. A write error is kept and returned by Close; later chunks
// are dropped.
type asyncWriter struct {
	free, full chan []byte
	done       chan error
}

const asyncChunks = 4

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{free: make(chan []byte, asyncChunks), full: make(chan []byte, asyncChunks), done: make(chan error, 1)}
	for range asyncChunks {
		a.free <- nil
	}
	go func() {
		var err error
		for b := range a.full {
			if err == nil {
				_, err = w.Write(b)
			}
			a.free <- b
		}
		a.done <- err
	}()
	return a
}

// Write queues a copy of p; it blocks only while every chunk is in flight.
func (a *asyncWriter) Write(p []byte) (int, error) {
	b := <-a.free
	a.full <- append(b[:0], p...)
	return len(p), nil
}

// Close waits for the queued writes and returns the first write error. It
// must be called exactly once, after the last Write.
func (a *asyncWriter) Close() error {
	close(a.full)
	return <-a.done
}
