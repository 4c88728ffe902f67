package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Scratch is the base reference for an image with no base layers.
const Scratch = "scratch"

// Transport prefixes of local image references, as skopeo and podman
// spell them.
const (
	OCIPrefix           = "oci:"
	DockerArchivePrefix = "docker-archive:"
)

// LinuxAMD64 is the default platform.
var LinuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// LoadBase returns the base image ref names: Scratch, "oci:DIR" (an OCI
// layout; the image for platform when it holds several),
// "docker-archive:FILE", or a registry reference (credentials from opts,
// e.g. remote.WithAuthFromKeychain(authn.DefaultKeychain)). A base for
// another platform is an error.
func LoadBase(ctx context.Context, ref string, platform v1.Platform, opts ...remote.Option) (v1.Image, error) {
	var img v1.Image
	var err error
	switch {
	case ref == Scratch:
		return empty.Image, nil
	case strings.HasPrefix(ref, OCIPrefix):
		img, err = fromLayout(strings.TrimPrefix(ref, OCIPrefix), platform)
	case strings.HasPrefix(ref, DockerArchivePrefix):
		img, err = tarball.ImageFromPath(strings.TrimPrefix(ref, DockerArchivePrefix), nil)
	default:
		var r name.Reference
		if r, err = name.ParseReference(ref); err == nil {
			img, err = remote.Image(r, append([]remote.Option{remote.WithContext(ctx), remote.WithPlatform(platform)}, opts...)...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load base image %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("load base image %s: read config: %w", ref, err)
	}
	if cf.OS != platform.OS || cf.Architecture != platform.Architecture {
		return nil, fmt.Errorf("load base image %s: it is for %s/%s, not %s", ref, cf.OS, cf.Architecture, platform)
	}
	return img, nil
}

// fromLayout returns the image of an OCI layout: its only image, or the
// one for platform.
func fromLayout(dir string, platform v1.Platform) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var found []v1.Hash
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if d.Platform == nil || d.Platform.Satisfies(platform) {
			found = append(found, d.Digest)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("layout holds %d images for %s, want exactly 1", len(found), platform)
	}
	return idx.Image(found[0])
}
