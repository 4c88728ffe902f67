package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Defaults of Options, as micromamba-docker's images have them.
const (
	DefaultPrefix    = "/opt/conda"
	DefaultEnvName   = "base"
	DefaultMaxLayers = 32
)

// DefaultUser is micromamba-docker's user.
var DefaultUser = User{Name: "mambauser", UID: 57439, GID: 57439}

// User is the image's user: passwd and group entries are added for it (when
// the base has none by that name) and the config runs as it.
type User struct {
	Name     string
	UID, GID int
}

// ParseUser parses "NAME:UID:GID" (--user).
func ParseUser(s string) (User, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 || f[0] == "" || strings.ContainsAny(f[0], " \t\n/") {
		return User{}, fmt.Errorf("parse user %q: want NAME:UID:GID", s)
	}
	uid, err := strconv.ParseUint(f[1], 10, 31)
	if err != nil {
		return User{}, fmt.Errorf("parse user %q: uid %q is not a number below 2^31", s, f[1])
	}
	gid, err := strconv.ParseUint(f[2], 10, 31)
	if err != nil {
		return User{}, fmt.Errorf("parse user %q: gid %q is not a number below 2^31", s, f[2])
	}
	return User{Name: f[0], UID: int(uid), GID: int(gid)}, nil
}

// Home is the user's home directory.
func (u User) Home() string { return "/home/" + u.Name }

// Options tunes Build. The zero value builds with the defaults.
type Options struct {
	// Platform is the image's platform when the base (scratch) has none;
	// default LinuxAMD64. A base's own platform is kept (LoadBase checks it).
	Platform v1.Platform
	// Prefix is where the environment lives in the image; default
	// DefaultPrefix.
	Prefix string
	// EnvName is CONDA_DEFAULT_ENV; default DefaultEnvName.
	EnvName string
	// MaxLayers bounds the number of package layers (the metadata layer
	// comes on top); default DefaultMaxLayers.
	MaxLayers int
	// smallPackage is the size below which packages share layers
	// (planLayers); 0 means smallPackageSize, < 0 that none do (tests of
	// one layer per package).
	smallPackage int64
	// Epoch, when set (from SOURCE_DATE_EPOCH), is the mtime of every file
	// the build makes (directories, entry points, .pyc, conda-meta, users)
	// and the image's creation time. Files from packages keep the mtimes
	// their archives give them: those are fixed by the package already,
	// and python's timestamp-checked .pyc files need them. When Epoch is
	// zero, a package layer's made files take the newest timestamp of its
	// packages — so that updating one package changes only its layer —
	// and the metadata layer and the image the newest of all packages (the
	// Unix epoch when they carry none).
	Epoch time.Time
	// User runs the image; the zero value means DefaultUser.
	User User
	// Prune drops files from the environment (PruneNone keeps all).
	Prune Prune
	// Compression of the new layers; the zero value is Gzip.
	Compression Compression
	// CompressionLevel is Compression's level (gzip 1–9, zstd 1–22); 0 is
	// the default, podman's: gzip 5, zstd 3. See CheckCompressionLevel.
	CompressionLevel int
	// Entrypoint, Cmd and WorkingDir go into the image config; WorkingDir
	// defaults to the user's home.
	Entrypoint, Cmd []string
	WorkingDir      string
	// Env holds extra KEY=VALUE variables; they win over baked activation.
	Env []string
	// Extra are files added to the image beside the packages' (what pip
	// installed for an environment file's pip: section), in the last
	// layer with conda-meta.
	Extra []ExtraFile
	// Variables are the environment's own variables (an environment file's
	// variables:): baked after the packages' env_vars.d, as activation
	// sets conda-meta/state's, and written to conda-meta/state.
	Variables map[string]string
	// Labels go into the image config.
	Labels map[string]string
	// Annotations go into the manifest, beside the org.opencontainers.image.*
	// ones Build fills.
	Annotations map[string]string
	// CompilePyc adds .pyc files of the noarch python packages' .py files
	// (unchecked-hash, so reproducible and never rewritten at run time),
	// compiled by the environment's python: it must run on this host
	// (HostRuns(Platform)).
	CompilePyc bool
	// LayerCache keeps package layers between builds, keyed by their
	// entries (paths, modes, content hashes) and the epoch, and each noarch
	// package's compiled .pyc files (see pycCache); "" disables it.
	LayerCache string
	// Progress, when set, is told of each package layer once written (or
	// found in LayerCache), one call at a time.
	Progress func(LayerReport)
	// LayerWritten, when set, is given each layer Build adds once it is
	// written or found in the layer cache, before the image is complete
	// (Uploader.Layer uploads it meanwhile). It may be called from several
	// goroutines at once.
	LayerWritten func(v1.Layer)
	// Reuse, when set, finds a layer blob the target repository already
	// has that holds what a layer Build is about to write: Build takes that
	// blob instead of writing and compressing the layer. Uploader.Reusable
	// looks in the image the pushed tag names. A rebuild on a machine with
	// empty caches (a CI runner) then compresses only the layers that
	// changed, and the image is the one a full build would give.
	Reuse ReuseFunc
	// LayerStarted, when set, is told of each package layer before it is
	// written: its packages (as LayerReport.Packages) and how many package
	// layers there are, one call at a time with Progress.
	LayerStarted func(packages []string, total int)
	// Shim is a static condabox binary for the image's platform: BuildEnvs
	// copies it into the image as its entrypoint (ShimPath).
	Shim string
	// WorkDir receives the layer files; they must stay until the image is
	// written. Empty means os.TempDir().
	WorkDir string
}

func (o Options) withDefaults() Options {
	if o.Platform.OS == "" {
		o.Platform = LinuxAMD64
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.EnvName == "" {
		o.EnvName = DefaultEnvName
	}
	if o.Compression == "" {
		o.Compression = Gzip
	}
	if o.MaxLayers <= 0 {
		o.MaxLayers = DefaultMaxLayers
	}
	if o.smallPackage == 0 {
		o.smallPackage = smallPackageSize
	}
	if o.User == (User{}) {
		o.User = DefaultUser
	}
	if o.WorkingDir == "" {
		o.WorkingDir = o.User.Home()
	}
	return o
}

// Compression is how new layers are compressed.
type Compression string

const (
	// Gzip layers are what every engine pulls.
	Gzip Compression = "gzip"
	// Zstd layers compress about twice as fast, and smaller; Docker 23+,
	// containerd 1.5+, podman and CRI-O pull them. They need an OCI
	// manifest: a Docker-format base is rewritten as one (same blobs).
	Zstd Compression = "zstd"
)

// ParseCompression parses --compression: "gzip" or "zstd".
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Gzip, Zstd:
		return c, nil
	case "":
		return Gzip, nil
	}
	return "", fmt.Errorf("parse compression %q: want gzip or zstd", s)
}

// CheckCompressionLevel checks a --compression-level for c: gzip takes 1
// (fastest) to 9 (smallest), zstd 1 to 22, as podman push does; 0 is the
// default.
func CheckCompressionLevel(c Compression, level int) error {
	hi := 9
	if c == Zstd {
		hi = 22
	}
	if level < 0 || level > hi {
		return fmt.Errorf("compression level %d: %s takes 1 to %d", level, c, hi)
	}
	return nil
}

// codec is how new layers are compressed: Compression at a level (0: the
// default).
type codec struct {
	Compression
	level int
}

func (o Options) codec() codec { return codec{o.Compression, o.CompressionLevel} }

// cacheExt names the layer cache's files of c: another level gives other
// bytes.
func (c codec) cacheExt() string {
	if c.level == 0 {
		return c.ext()
	}
	return fmt.Sprintf(".l%d%s", c.level, c.ext())
}

// ReuseFunc finds a blob holding the layer named id, as the image history
// of a layer Build added names it (its comment: the layer's content key and
// format), and returns its descriptor and diff ID.
type ReuseFunc func(ctx context.Context, id string) (blob v1.Descriptor, diffID v1.Hash, ok bool)

// format names what, besides the entries, decides a layer blob's bytes:
// the layer writer's version, the compression and its level.
func (c codec) format() string {
	return layerCacheVersion + " " + strings.TrimPrefix(c.cacheExt(), ".")
}

// written gives l to LayerWritten.
func (o Options) written(l *fileLayer) {
	if o.LayerWritten == nil {
		return
	}
	if vl, err := l.layer(); err == nil {
		o.LayerWritten(vl)
	}
}

// ExtraFile is a file of Options.Extra: Path is relative to the image's
// root ("opt/conda/lib/python3.11/site-packages/x/__init__.py"); a Linkname
// makes it a symlink.
type ExtraFile struct {
	Path     string
	Mode     fs.FileMode
	Data     []byte
	Linkname string
}

// extraEntries returns Options.Extra as layer entries, owned by root.
func extraEntries(files []ExtraFile) []entry {
	out := make([]entry, 0, len(files))
	for _, f := range files {
		e := entry{Name: strings.TrimPrefix(f.Path, "/"), Type: tar.TypeReg, Mode: int64(f.Mode.Perm()), Data: f.Data, Size: int64(len(f.Data))}
		if f.Linkname != "" {
			e.Type, e.Linkname, e.Mode, e.Data, e.Size = tar.TypeSymlink, f.Linkname, 0o777, nil, 0
		}
		out = append(out, e)
	}
	return out
}
