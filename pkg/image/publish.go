package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/image/sbom"
)

// refNameAnnotation names an image inside an OCI layout.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes img into the OCI layout dir (created when missing)
// under the name tag, replacing an image of that name. dir is replaced
// whole (atomicfile.ReplaceDir): a write that fails, on a full disk say,
// leaves the layout as it was, with the images it held.
func WriteLayout(dir string, img v1.Image, tag string) error {
	return writeLayout(dir, tag, func(p layout.Path, m match.Matcher, o layout.Option) error { return p.ReplaceImage(img, m, o) })
}

// WriteLayoutIndex is WriteLayout for an image index.
func WriteLayoutIndex(dir string, idx v1.ImageIndex, tag string) error {
	return writeLayout(dir, tag, func(p layout.Path, m match.Matcher, o layout.Option) error { return p.ReplaceIndex(idx, m, o) })
}

func writeLayout(dir, tag string, replace func(layout.Path, match.Matcher, layout.Option) error) error {
	// go-containerregistry rewrites these in place; blobs it only adds.
	rewritten := func(rel string) bool { return rel == "index.json" || rel == "oci-layout" }
	err := atomicfile.ReplaceDir(dir, rewritten, func(stage string) error {
		p, err := layout.FromPath(stage)
		if errors.Is(err, fs.ErrNotExist) {
			p, err = layout.Write(stage, empty.Index)
		}
		if err != nil {
			return err
		}
		return replace(p, match.Annotation(refNameAnnotation, tag), layout.WithAnnotations(map[string]string{refNameAnnotation: tag}))
	})
	if err != nil {
		return fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return nil
}

// NewIndex returns the OCI image index of per-platform images.
func NewIndex(imgs []v1.Image, platforms []v1.Platform) v1.ImageIndex {
	adds := make([]mutate.IndexAddendum, len(imgs))
	for i, img := range imgs {
		adds[i] = mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &platforms[i]}}
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// WriteDockerArchive writes img as a `docker load` tarball to file, tagged
// tag: whole or not at all (a file it replaces stays as it was when the
// write fails).
func WriteDockerArchive(file string, img v1.Image, tag string) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("write docker archive %s: tag: %w", file, err)
	}
	if err := atomicfile.Write(file, 0o644, func(w io.Writer) error { return tarball.Write(t, img, w) }); err != nil {
		return fmt.Errorf("write docker archive %s: %w", file, err)
	}
	return nil
}

// emptyConfig is the OCI 1.1 empty descriptor's content: artifacts that
// have no config point at it.
var emptyConfig = static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")

// sbomArtifact is an SBOM as an OCI artifact manifest of type
// sbom.MediaType whose subject is an image, ready to push: the manifest and
// its blobs (the empty config and the document).
type sbomArtifact struct {
	hash  v1.Hash     // the manifest's
	ref   name.Digest // repo@hash
	raw   []byte
	blobs []v1.Layer
}

// newSBOMArtifact describes doc as the referrer of img in repo; nil for a
// nil doc.
func newSBOMArtifact(repo name.Repository, img v1.Image, doc []byte) (*sbomArtifact, error) {
	if doc == nil {
		return nil, nil
	}
	subject, err := partial.Descriptor(img)
	if err != nil {
		return nil, err
	}
	blobs := sbomLayers(doc)
	var descs []v1.Descriptor
	for _, l := range blobs {
		d, err := partial.Descriptor(l)
		if err != nil {
			return nil, err
		}
		descs = append(descs, *d)
	}
	descs[1].Annotations = map[string]string{"org.opencontainers.image.title": "sbom.spdx.json"}
	subject.Platform, subject.Annotations = nil, nil
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: sbom.MediaType,
		Config: descs[0], Layers: descs[1:], Subject: subject}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return &sbomArtifact{hash: h, ref: repo.Digest(h.String()), raw: raw, blobs: blobs}, nil
}

// sbomLayers are the blobs of the SBOM artifact of doc: the empty config
// and the document.
func sbomLayers(doc []byte) []v1.Layer {
	return []v1.Layer{emptyConfig, static.NewLayer(doc, sbom.MediaType)}
}

// pendingSBOMs returns the artifacts the registry lacks (an earlier build
// of the same image pushed the others), and the digests of all of them.
func pendingSBOMs(arts []*sbomArtifact, opts []remote.Option) (pending []*sbomArtifact, digests []v1.Hash) {
	digests = make([]v1.Hash, len(arts))
	for i, a := range arts {
		if a == nil {
			continue
		}
		digests[i] = a.hash
		if _, err := remote.Head(a.ref, opts...); err != nil {
			pending = append(pending, a)
		}
	}
	return pending, digests
}

// sbomBlobs lists the blobs of arts.
func sbomBlobs(arts []*sbomArtifact) []v1.Layer {
	var out []v1.Layer
	for _, a := range arts {
		out = append(out, a.blobs...)
	}
	return out
}

// putSBOMs puts the manifests of arts, whose blobs are pushed.
func putSBOMs(arts []*sbomArtifact, opts []remote.Option) error {
	for _, a := range arts {
		if err := remote.Put(a.ref, rawManifest{a.raw}, opts...); err != nil {
			return fmt.Errorf("push SBOM %s: %w", a.ref, err)
		}
	}
	return nil
}

// rawManifest is a manifest to push as is.
type rawManifest struct{ raw []byte }

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
