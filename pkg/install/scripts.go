package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/condabox/condabox/pkg/conda"
)

// messagesFile is where link scripts leave messages for the user; conda
// prints it after the transaction and deletes it.
const messagesFile = ".messages.txt"

// LinkScript returns the prefix-relative path of a package's post-link or
// pre-unlink script (kind): bin/.<name>-<kind>.sh.
func LinkScript(name, kind string) string {
	return "bin/." + name + "-" + kind + ".sh"
}

// runLinkScript runs r's script of kind unless the transaction skips them.
func (a *applier) runLinkScript(ctx context.Context, r *conda.PackageRecord, kind string) error {
	if a.opts.SkipLinkScripts {
		return nil
	}
	return runLinkScript(ctx, a.prefix, a.opts.RootPrefix, r, kind)
}

// runLinkScript runs the package's post-link or pre-unlink script if it
// has one, with conda's variables. Its stdout is appended to
// .messages.txt; a non-zero exit is an error carrying the script's output.
func runLinkScript(ctx context.Context, prefix, rootPrefix string, r *conda.PackageRecord, kind string) error {
	script := filepath.Join(prefix, filepath.FromSlash(LinkScript(r.Name, kind)))
	if _, err := os.Stat(script); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	shell := "bash" // conda runs "bash -x script" (sh on BSDs)
	if _, err := exec.LookPath(shell); err != nil {
		shell = "sh"
	}
	cmd := exec.CommandContext(ctx, shell, "-x", script)
	cmd.Dir = prefix
	cmd.Env = append(os.Environ(),
		"ROOT_PREFIX="+rootPrefix,
		"PREFIX="+prefix,
		"PKG_NAME="+r.Name,
		"PKG_VERSION="+r.Version.String(),
		"PKG_BUILDNUM="+strconv.FormatUint(r.BuildNumber, 10),
		"PATH="+filepath.Join(prefix, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := runChild(cmd)
	if stdout.Len() > 0 {
		if err := appendFile(filepath.Join(prefix, messagesFile), stdout.Bytes()); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("%s script of %s (%s) failed: %w\nstdout:\n%s\nstderr:\n%s",
			kind, r.Dist(), script, runErr, stdout.Bytes(), stderr.Bytes())
	}
	return nil
}

// appendFile appends data to name, creating it, and syncs it.
func appendFile(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", name, err)
	}
	return nil
}

// takeMessages returns and deletes .messages.txt.
func takeMessages(prefix string) (string, error) {
	name := filepath.Join(prefix, messagesFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(b), os.Remove(name)
}
