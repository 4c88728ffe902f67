package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

// Uploader uploads layers to a repository while the image is still being
// built (Options.LayerWritten), so that the push after Build has only the
// config, the manifest and what was not uploaded yet left to do: on a cold
// build the upload of each layer overlaps the compression of the others.
// Layers the tag's current manifest lists are not uploaded. An upload that
// fails is not an error here: Push checks and uploads that blob again and
// reports its error. Given to Push (PushOptions.Uploader), it also uploads
// the config and SBOM blobs its monolithic way.
//
// It first checks that the credentials may push (Err): nothing is uploaded
// before they may, and nothing at all when they may not.
type Uploader struct {
	ctx    context.Context // StartUpload's: cancelling it stops the uploads
	ref    name.Reference
	opts   []remote.Option // ggcr's, for mounts from other repositories
	client *http.Client    // authenticated for pushes to ref's repository
	ready  chan struct{}   // closed once err, current, known and client are set
	// err is why nothing can be pushed to ref: the credentials or the
	// registry.
	err error
	// repoOpts are opts that reach ref's repository through client's
	// transport: no new handshake (ping, token) per call.
	repoOpts []remote.Option
	// current is the digest of the manifest ref named when the upload
	// started, and known the blobs it lists.
	current v1.Hash
	known   map[v1.Hash]bool
	// reusable are the layers of the tagged image condabox wrote, by
	// layerID (PushOptions.ReuseLayers).
	reusable map[string]reusableLayer
	sem      chan struct{}
	wg       sync.WaitGroup

	mu       sync.Mutex
	queued   map[v1.Hash]bool
	uploaded map[v1.Hash]bool
}

// StartUpload returns an Uploader to ref's repository, authenticated by
// keychain. In the background it opens one authenticated session to the
// repository (the registry's handshake: a ping and, for token auth, a
// token with push scope), then on it at once checks that it may push (as
// ggcr's CheckPushPermission: an upload opened and cancelled; a token
// alone does not tell on every registry) and reads the tag's current
// manifest. Err waits for the check.
func StartUpload(ctx context.Context, ref name.Reference, keychain authn.Keychain, o PushOptions) *Uploader {
	u := &Uploader{ctx: ctx, ref: ref, ready: make(chan struct{}), sem: make(chan struct{}, pushJobs),
		queued: map[v1.Hash]bool{}, uploaded: map[v1.Hash]bool{}}
	opts, err := reuse(ctx, o.Remote)
	if err != nil {
		u.err = err
		close(u.ready)
		return u
	}
	go func() {
		defer close(u.ready)
		repo := ref.Context()
		auth, err := authn.Resolve(ctx, keychain, repo)
		if err != nil {
			u.err = fmt.Errorf("resolve credentials for %s: %w", repo, err)
			return
		}
		rt, err := transport.NewWithContext(ctx, repo.Registry, auth, transport.NewRetry(remote.DefaultTransport), []string{repo.Scope(transport.PushScope)})
		if err != nil {
			u.err = err
			return
		}
		client := &http.Client{Transport: rt}
		repoOpts, err := reuse(ctx, append(slices.Clone(o.Remote), remote.WithTransport(rt)))
		if err != nil {
			u.err = err
			return
		}
		var tagged sync.WaitGroup
		tagged.Go(func() {
			desc, err := remote.Get(ref, repoOpts...)
			u.current, u.known = taggedBlobs(desc, err)
			if o.ReuseLayers && u.known != nil {
				if img, err := desc.Image(); err == nil {
					u.reusable = reusableLayers(img)
				}
			}
		})
		u.err = checkPush(ctx, client, repo)
		tagged.Wait()
		if u.err == nil {
			u.opts, u.repoOpts, u.client = opts, repoOpts, client
		}
	}()
	return u
}

// checkPush opens an upload to repo and cancels it (in the background: a
// registry may be slow to, and nothing waits for it).
func checkPush(ctx context.Context, client *http.Client, repo name.Repository) error {
	blobs := fmt.Sprintf("%s://%s/v2/%s/blobs/uploads/", repo.Registry.Scheme(), repo.RegistryStr(), repo.RepositoryStr())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, blobs, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusAccepted); err != nil {
		return err // it reads the registry's error from the body
	}
	if loc, err := resp.Location(); err == nil {
		go func() {
			req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodDelete, loc.String(), nil)
			if err != nil {
				return
			}
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	return nil
}

// Err waits for StartUpload's check and returns why nothing can be pushed
// to the repository (wrong credentials, an unreachable registry), or nil.
func (u *Uploader) Err() error {
	<-u.ready
	return u.err
}

// Layer starts uploading l unless the repository has it or it is queued
// already; it does not wait.
func (u *Uploader) Layer(l v1.Layer) {
	d, err := l.Digest()
	if err != nil {
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
		if u.err != nil || u.known[d] {
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

// Image starts uploading what the push of img needs besides the layers
// Layer was given: its base layers (mounted when the base is in the same
// registry), its config and the blobs of its SBOM document (nil for none).
// Called once the image is built, it leaves Push only the manifests to
// put.
func (u *Uploader) Image(img v1.Image, sbomDoc []byte) {
	layers, err := img.Layers()
	if err != nil {
		return // Push reports it
	}
	for _, l := range layers {
		u.Layer(l)
	}
	if raw, err := img.RawConfigFile(); err == nil {
		u.Layer(static.NewLayer(raw, ""))
	}
	if sbomDoc != nil {
		for _, l := range sbomLayers(sbomDoc) {
			u.Layer(l)
		}
	}
}

// Reusable is a ReuseFunc (Options.Reuse) finding layers in the image the
// tag named when the upload started (PushOptions.ReuseLayers): their blobs
// are in the repository, so neither compressed nor uploaded again.
func (u *Uploader) Reusable(ctx context.Context, id string) (v1.Descriptor, v1.Hash, bool) {
	select {
	case <-u.ready:
	case <-ctx.Done():
		return v1.Descriptor{}, v1.Hash{}, false
	}
	r, ok := u.reusable[id]
	return r.blob, r.diffID, ok
}

// tagged returns what the tag named when the upload started (see
// tagged), once known.
func (u *Uploader) tagged() (v1.Hash, map[v1.Hash]bool) {
	<-u.ready
	return u.current, u.known
}

// queuedFor reports whether Layer was given the layer of digest d.
func (u *Uploader) queuedFor(d v1.Hash) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.queued[d]
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
		return fmt.Errorf("no push to %s: %w", u.ref.Context(), u.Err())
	}
	repo := u.ref.Context()
	if _, ok := l.(*remote.MountableLayer); ok {
		// A base layer: ggcr mounts it from the base's repository when
		// the registry is the same.
		return remote.WriteLayer(repo, l, u.opts...)
	}
	blobs := fmt.Sprintf("%s://%s/v2/%s/blobs/", repo.Registry.Scheme(), repo.RegistryStr(), repo.RepositoryStr())
	resp, err := u.do(http.MethodHead, blobs+d.String(), nil, 0)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil // there already: not uploaded again
	}
	resp, err = u.do(http.MethodPost, blobs+"uploads/", nil, 0)
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
	resp, err = u.do(http.MethodPut, loc.String(), rc, size)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("upload %s: %s", d, resp.Status)
	}
	return nil
}

// do sends one request of an upload on the Uploader's context; a body is
// sent as size bytes of application/octet-stream.
func (u *Uploader) do(method, url string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(u.ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	return u.client.Do(req)
}
