package env

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// PipSection is the pip: list of one environment file: requirement lines
// as pip reads them in a requirements file ("requests>=2", "-e .",
// "--index-url URL", "-r other.txt").
type PipSection struct {
	File         string // the environment file, whose folder relative paths start from
	Requirements []string
	// NoDeps installs exactly the requirements (a lock's pip packages).
	NoDeps bool
}

// checkPip refuses, before anything is linked, pip sections (of
// environment files or locks) that the planned environment cannot
// install: it has no pip.
func checkPip(sections []PipSection, recs []conda.PackageRecord) error {
	if len(sections) == 0 {
		return nil
	}
	for _, r := range recs {
		if r.Name == "pip" {
			return nil
		}
	}
	return fmt.Errorf("%s: its pip packages need pip in the environment: add pip to its dependencies", sections[0].File)
}

// installPip installs each pip: section into prefix as conda and
// micromamba do, once the conda packages are linked: the environment's
// python runs `python -m pip install -U --no-input -r FILE` in the
// activated environment, from the environment file's folder, with the
// requirements written to a file beside it (so that "-r other.txt" and
// "-e ." mean what they mean there). pip's output goes to progress; a
// failure returns its last lines.
func installPip(ctx context.Context, prefix, name string, sections []PipSection, progress io.Writer) error {
	for _, sec := range sections {
		if err := installPipSection(ctx, prefix, name, sec, progress, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// installPipSection runs pip for one section, with more pip arguments and
// environment variables.
func installPipSection(ctx context.Context, prefix, name string, sec PipSection, progress io.Writer, moreArgs, moreEnv []string) error {
	file, err := filepath.Abs(sec.File) // pip runs in its folder: a relative name would not lead there
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	reqs, err := os.CreateTemp(dir, ".condabox-pip-*.txt")
	if err != nil { // a read-only folder: only relative -r lines suffer
		if reqs, err = os.CreateTemp("", "condabox-pip-*.txt"); err != nil {
			return err
		}
	}
	defer os.Remove(reqs.Name())
	_, err = io.WriteString(reqs, strings.Join(sec.Requirements, "\n")+"\n")
	if cerr := reqs.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: pip: section: %w", sec.File, err)
	}
	args := []string{filepath.Join(prefix, "bin", "python"), "-m", "pip", "install", "-U", "--no-input", "-r", reqs.Name()}
	if sec.NoDeps {
		args = append(args, "--no-deps")
	}
	args = append(args, moreArgs...)
	c, err := Command(ctx, prefix, name, append(os.Environ(), moreEnv...), args, FindShell())
	if err != nil {
		return fmt.Errorf("%s: pip: section: %w", sec.File, err)
	}
	var out tail
	w := io.Writer(&out)
	if progress != nil {
		w = io.MultiWriter(progress, &out)
	}
	c.Dir, c.Stdout, c.Stderr = dir, w, w
	err = c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s: pip install of its pip: section failed (exit %d):\n%s", sec.File, exit.ExitCode(), out.String())
	}
	if err != nil {
		return fmt.Errorf("%s: pip: section: %w", sec.File, err)
	}
	return nil
}

// tail keeps the last tailSize bytes written to it, from a line start.
type tail struct{ buf bytes.Buffer }

const tailSize = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if t.buf.Len() > 2*tailSize {
		keep := t.buf.Bytes()[t.buf.Len()-tailSize:]
		t.buf = *bytes.NewBuffer(append([]byte(nil), keep...))
	}
	return len(p), nil
}

func (t *tail) String() string {
	s := t.buf.String()
	if len(s) > tailSize {
		s = s[len(s)-tailSize:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return strings.TrimRight(s, "\n")
}
