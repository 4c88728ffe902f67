package image

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"golang.org/x/sync/errgroup"
)

// pushJobs is how many blobs are checked or uploaded at once.
const pushJobs = 6

// PushOptions tunes Push.
type PushOptions struct {
	// Remote holds the registry options (auth, transport).
	Remote []remote.Option
	// Progress, when set, is called after each blob the push had to check
	// or upload (one at a time).
	Progress func(BlobPushed)
	// Uploader, when not nil, is the one that uploaded layers during the
	// build (it must have finished: Wait): the blobs it uploaded are not
	// checked again, and the others go up its monolithic way.
	Uploader *Uploader
	// ReuseLayers makes StartUpload read the config of the image the tag
	// names too, for Uploader.Reusable.
	ReuseLayers bool
}

// BlobPushed reports one blob of a push.
type BlobPushed struct {
	// Done of Total blobs are checked or uploaded; Bytes is the size of
	// those done.
	Done, Total int
	Bytes       int64
}

// Push pushes img to ref and, when sbomDoc is not nil, the SBOM as an OCI
// referrer artifact whose subject is the image (registries without the
// referrers API get the fallback tag sha256-<digest>). It returns the SBOM
// manifest's digest.
//
// A rebuild pushes to a tag that names the previous image, so Push reads
// that manifest first: when it is img already nothing is uploaded, and the
// blobs it lists are in the repository and not asked for again. The other
// blobs are checked and uploaded (or mounted from the base's repository)
// in parallel, and the manifest is put last, so the tag never names an
// image with missing blobs.
func Push(ctx context.Context, ref name.Reference, img v1.Image, sbomDoc []byte, o PushOptions) (v1.Hash, error) {
	digests, err := PushIndex(ctx, ref, nil, []v1.Image{img}, [][]byte{sbomDoc}, o)
	if err != nil {
		return v1.Hash{}, err
	}
	return digests[0], nil
}

// PushIndex pushes an index of per-platform images to ref and the SBOM of
// each image (sbomDocs[i] for imgs[i], which idx holds) as its referrer;
// with a nil idx, the one image of imgs is ref's manifest (Push). The blobs
// of the images and SBOMs go first, all at once; then the images'
// manifests, the index, and the SBOMs' manifests.
func PushIndex(ctx context.Context, ref name.Reference, idx v1.ImageIndex, imgs []v1.Image, sbomDocs [][]byte, o PushOptions) ([]v1.Hash, error) {
	// opts reach any repository (mounts from the base's); repoOpts only
	// ref's, on the Uploader's session when it has one.
	var opts, repoOpts []remote.Option
	var err error
	if u := o.Uploader; u != nil {
		if err := u.Err(); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
		if u.ref.String() == ref.String() {
			opts, repoOpts = u.opts, u.repoOpts
		}
	}
	if opts == nil {
		if opts, err = reuse(ctx, o.Remote); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
		repoOpts = opts
	}
	repo := ref.Context()
	arts := make([]*sbomArtifact, len(imgs))
	for i, img := range imgs {
		if arts[i], err = newSBOMArtifact(repo, img, sbomDocs[i]); err != nil {
			return nil, fmt.Errorf("push SBOM of %s: %w", ref, err)
		}
	}
	var pending []*sbomArtifact
	var sbomDigests []v1.Hash
	asked := make(chan struct{})
	go func() {
		defer close(asked)
		pending, sbomDigests = pendingSBOMs(arts, repoOpts)
	}()
	var want v1.Hash
	if idx != nil {
		want, err = idx.Digest()
	} else {
		want, err = imgs[0].Digest()
	}
	if err != nil {
		<-asked
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	var current v1.Hash
	var known map[v1.Hash]bool
	if o.Uploader != nil && o.Uploader.ref.String() == ref.String() {
		current, known = o.Uploader.tagged() // read when the build started
	} else {
		current, known = tagged(ref, repoOpts)
	}
	<-asked
	if current == want {
		imgs = nil // the tag names it already
	}
	blobs, err := blobsOf(imgs, sbomBlobs(pending), known)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	if err := pushBlobs(ctx, repo, blobs, o, opts); err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	for _, img := range imgs {
		target := name.Reference(ref)
		if idx != nil {
			d, err := img.Digest()
			if err != nil {
				return nil, fmt.Errorf("push %s: %w", ref, err)
			}
			target = repo.Digest(d.String())
		}
		if err := remote.Put(target, img, repoOpts...); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
	}
	if idx != nil && imgs != nil {
		if err := remote.Put(ref, idx, repoOpts...); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
	}
	if err := putSBOMs(pending, repoOpts); err != nil {
		return nil, err
	}
	return sbomDigests, nil
}

// reuse returns opts with ctx and a pusher and a puller that every call
// of one push shares: one connection setup and authentication per
// repository, not one per blob.
func reuse(ctx context.Context, opts []remote.Option) ([]remote.Option, error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return nil, err
	}
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	return append(opts, remote.Reuse(pusher), remote.Reuse(puller)), nil
}

// tagged returns the digest of the image manifest ref names in the
// registry and the blobs it lists; nothing when there is none (or it
// cannot be read: the push then checks every blob, as it must).
func tagged(ref name.Reference, opts []remote.Option) (v1.Hash, map[v1.Hash]bool) {
	desc, err := remote.Get(ref, opts...)
	return taggedBlobs(desc, err)
}

// taggedBlobs is tagged of what remote.Get returned.
func taggedBlobs(desc *remote.Descriptor, err error) (v1.Hash, map[v1.Hash]bool) {
	if err != nil || !desc.MediaType.IsImage() {
		return v1.Hash{}, nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return v1.Hash{}, nil
	}
	known := map[v1.Hash]bool{m.Config.Digest: true}
	for _, l := range m.Layers {
		known[l.Digest] = true
	}
	return desc.Digest, known
}

// reusableLayer is a layer blob of a pushed image and its diff ID.
type reusableLayer struct {
	blob   v1.Descriptor
	diffID v1.Hash
}

// reusableLayers returns the layers of img that condabox wrote, by the id
// their history comment gives them (layerID); nil when there are none.
func reusableLayers(img v1.Image) map[string]reusableLayer {
	m, err := img.Manifest()
	if err != nil {
		return nil
	}
	cf, err := img.ConfigFile()
	if err != nil || len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return nil
	}
	// The history comments of the layers, in layer order. A base's history
	// may lack entries; Build's layers, the last ones, have one each.
	var ids []string
	for _, h := range cf.History {
		if !h.EmptyLayer {
			ids = append(ids, h.Comment)
		}
	}
	skip := len(m.Layers) - len(ids) // layers without a history entry
	if skip < 0 {
		return nil
	}
	var out map[string]reusableLayer
	for i, id := range ids {
		if !strings.HasPrefix(id, layerCacheVersion+" ") {
			continue // not condabox's, or an older writer's
		}
		if out == nil {
			out = map[string]reusableLayer{}
		}
		out[id] = reusableLayer{blob: m.Layers[skip+i], diffID: cf.RootFS.DiffIDs[skip+i]}
	}
	return out
}

// blobsOf returns the layers and configs of imgs, and extra, that known
// does not list, each once.
func blobsOf(imgs []v1.Image, extra []v1.Layer, known map[v1.Hash]bool) ([]v1.Layer, error) {
	var out []v1.Layer
	seen := map[v1.Hash]bool{}
	add := func(ls []v1.Layer) error {
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			if !known[d] && !seen[d] {
				seen[d] = true
				out = append(out, l)
			}
		}
		return nil
	}
	for _, img := range imgs {
		layers, err := img.Layers()
		if err != nil {
			return nil, err
		}
		raw, err := img.RawConfigFile()
		if err != nil {
			return nil, err
		}
		if err := add(append(layers, static.NewLayer(raw, ""))); err != nil {
			return nil, err
		}
	}
	if err := add(extra); err != nil {
		return nil, err
	}
	return out, nil
}

// pushBlobs uploads blobs, pushJobs at a time: with o.Uploader's
// monolithic upload when it has one (a failure there falls back to
// ggcr's), else, and for base layers ggcr can mount from their repository,
// ggcr's. The layers o.Uploader was given during the build are its own:
// the others go up while it finishes, and of its own only those it could
// not upload are sent again. Progress counts the blobs this push sends or
// mounts; it starts once the Uploader has finished and so the count is
// known.
func pushBlobs(ctx context.Context, repo name.Repository, blobs []v1.Layer, o PushOptions, opts []remote.Option) error {
	var now, theirs []v1.Layer
	for _, l := range blobs {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		if o.Uploader != nil && o.Uploader.queuedFor(d) {
			theirs = append(theirs, l)
		} else {
			now = append(now, l)
		}
	}
	var (
		mu       sync.Mutex
		report   BlobPushed
		counting bool    // Total is known
		early    []int64 // sizes of the blobs done before it was
	)
	done := func(size int64) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !counting {
			early = append(early, size)
			return
		}
		report.Done++
		report.Bytes += size
		o.Progress(report)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(pushJobs)
	push := func(l v1.Layer) {
		g.Go(func() error {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			// A base layer from a registry is mounted by ggcr's
			// WriteLayer, not sent again.
			_, mountable := l.(*remote.MountableLayer)
			if o.Uploader == nil || mountable || o.Uploader.upload(l, d) != nil {
				if err := remote.WriteLayer(repo, l, append(opts, remote.WithContext(ctx))...); err != nil {
					return fmt.Errorf("blob %s: %w", d, err)
				}
			}
			size, _ := l.Size()
			done(size)
			return nil
		})
	}
	for _, l := range now {
		push(l)
	}
	var again []v1.Layer
	if o.Uploader != nil {
		uploaded := o.Uploader.Wait()
		for _, l := range theirs {
			if d, _ := l.Digest(); !uploaded[d] {
				again = append(again, l)
			}
		}
	}
	mu.Lock()
	counting, report.Total = true, len(now)+len(again)
	for _, size := range early {
		report.Done++
		report.Bytes += size
		o.Progress(report)
	}
	mu.Unlock()
	for _, l := range again {
		push(l)
	}
	return g.Wait()
}
