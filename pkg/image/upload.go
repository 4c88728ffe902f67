package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Uploader uploads layers to a repository while the image is still being
// built (Options.LayerWritten), so that the push after Build has only the
// config, the manifest and what was not uploaded yet left to do: on a cold
// build the upload of each layer overlaps the compression of the others.
// Layers the tag's current manifest lists are not uploaded. An upload that
// fails is not an error here: Push checks and uploads that blob again and
// reports its error. Given to Push (PushOptions.Uploader), it also uploads
// the config and SBOM blobs its monolithic way.
type Uploader struct {
	ref    name.Reference
	opts   []remote.Option
	client *http.Client  // authenticated for pushes to ref's repository
	ready  chan struct{} // closed once known and client are set
	known  map[v1.Hash]bool
	sem    chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	queued   map[v1.Hash]bool
	uploaded map[v1.Hash]bool
}

// StartUpload returns an Uploader to ref's repository, authenticated by
// keychain; it reads the tag's current manifest in the background.
func StartUpload(ctx context.Context, ref name.Reference, keychain authn.Keychain, o PushOptions) *Uploader {
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
		repo := ref.Context()
		auth, err := keychain.Resolve(repo)
		if err != nil {
			return
		}
		rt, err := transport.NewWithContext(ctx, repo.Registry, auth, remote.DefaultTransport, []string{repo.Scope(transport.PushScope)})
		if err == nil {
			u.client = &http.Client{Transport: rt}
		}
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
		if u.upload(l, d) == nil {
			u.mu.Lock()
			u.uploaded[d] = true
			u.mu.Unlock()
		}
	}()
}

// Wait waits for the uploads started and returns the blobs now in the
// repository (Push asks it when given as PushOptions.Uploader).
func (u *Uploader) Wait() map[v1.Hash]bool {
	<-u.ready // client and known are set: Push reads client
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[v1.Hash]bool, len(u.uploaded))
	for d := range u.uploaded {
		out[d] = true
	}
	return out
}

// upload sends l unless the repository has it: a HEAD asking, then one
// monolithic upload, a POST opening it and a PUT with the bytes and the
// digest closing it (the OCI distribution spec's "monolithic" push). ggcr's
// WriteLayer sends the bytes in a PATCH of their own: four requests, which
// cost the registry more than a small layer's bytes.
func (u *Uploader) upload(l v1.Layer, d v1.Hash) error {
	if u.client == nil {
		return errors.New("no client for the registry") // its credentials did not resolve
	}
	repo := u.ref.Context()
	blobs := fmt.Sprintf("%s://%s/v2/%s/blobs/", repo.Registry.Scheme(), repo.RegistryStr(), repo.RepositoryStr())
	resp, err := u.client.Head(blobs + d.String())
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil // there already: not uploaded again
	}
	resp, err = u.client.Post(blobs+"uploads/", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("start upload of %s: %s", d, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	req, err := http.NewRequest(http.MethodPut, loc.String(), rc)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = u.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("upload %s: %s", d, resp.Status)
	}
	return nil
}
