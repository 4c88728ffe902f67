package image

import (
	"context"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Uploader uploads layers to a repository while the image is still being
// built (Options.LayerWritten), so that the push after Build has only the
// config, the manifest and what was not uploaded yet left to do: on a cold
// build the upload of each layer overlaps the compression of the others.
// Layers the tag's current manifest lists are not uploaded. An upload that
// fails is not an error here: Push checks and uploads that blob again and
// reports its error.
type Uploader struct {
	ref   name.Reference
	opts  []remote.Option
	ready chan struct{} // closed once known is read
	known map[v1.Hash]bool
	sem   chan struct{}
	wg    sync.WaitGroup

	mu       sync.Mutex
	queued   map[v1.Hash]bool
	uploaded map[v1.Hash]bool
}

// StartUpload returns an Uploader to ref's repository; it reads the tag's
// current manifest in the background.
func StartUpload(ctx context.Context, ref name.Reference, o PushOptions) *Uploader {
	u := &Uploader{ref: ref, ready: make(chan struct{}), sem: make(chan struct{}, pushJobs),
		queued: map[v1.Hash]bool{}, uploaded: map[v1.Hash]bool{}}
	opts, err := reuse(ctx, o.Remote)
	if err != nil {
		close(u.ready)
		return u // no uploads: Push reports what is wrong
	}
	u.opts = opts
	go func() {
		defer close(u.ready)
		_, u.known = tagged(ref, opts)
	}()
	return u
}

// Layer starts uploading l unless the repository has it or it is queued
// already; it does not wait.
func (u *Uploader) Layer(l v1.Layer) {
	d, err := l.Digest()
	if err != nil || u.opts == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.queued[d] {
		return
	}
	u.queued[d] = true
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		<-u.ready
		if u.known[d] {
			return
		}
		u.sem <- struct{}{}
		defer func() { <-u.sem }()
		if remote.WriteLayer(u.ref.Context(), l, u.opts...) == nil {
			u.mu.Lock()
			u.uploaded[d] = true
			u.mu.Unlock()
		}
	}()
}

// Wait waits for the uploads started and returns the blobs now in the
// repository, for PushOptions.Uploaded.
func (u *Uploader) Wait() map[v1.Hash]bool {
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[v1.Hash]bool, len(u.uploaded))
	for d := range u.uploaded {
		out[d] = true
	}
	return out
}
