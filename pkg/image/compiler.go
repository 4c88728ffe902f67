package image

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// compileScript is the compiling python's program. It starts once and
// reads requests on stdin, each a line "ID\tDIST\tLENGTH\n" and LENGTH
// bytes: the .py files of package DIST, each as a "PATH\tLENGTH\n" line
// (PATH: where the file is in the image) and its bytes. For each request
// it forks a child, which compiles the files, writes "CACHE\tLENGTH\n" and
// the .pyc bytes of each to the file ID of folder argv[1] (CACHE: the
// cache path of PATH), then prints "ID\t0\n". A child that fails or dies
// is reported by the server as "ID\tSTATUS\n" once it has exited: the
// server looks for those between requests and every 50 ms while it waits
// for one. The caller bounds how many requests are in flight.
//
// A child starts from the state the server had before any request, so a
// package's .pyc bytes depend on its sources and the interpreter only, not
// on which packages were compiled before (marshal's references follow the
// process's state); the server pays python's start-up once instead of
// once per package. The bytes are py_compile's for unchecked-hash .pyc
// files (the same compiler and header), which carry no source mtime; python
// never rewrites them, so a read-only image or any uid still loads them. A
// file that does not compile is skipped, as conda does, and named on
// stderr.
const compileScript = `import importlib.machinery, importlib.util, io, os, select, sys, traceback
from importlib._bootstrap_external import _code_to_hash_pyc
def compile_package(dist, src, out):
    while True:
        line = src.readline()
        if not line:
            break
        dfile, size = line.decode().rstrip("\n").split("\t")
        source = src.read(int(size))
        loader = importlib.machinery.SourceFileLoader("<py_compile>", dfile)
        try:
            code = loader.source_to_code(source, dfile)
        except Exception as e:
            print("%s: %s: %s" % (dist, dfile, e), file=sys.stderr)
            continue
        data = _code_to_hash_pyc(code, importlib.util.source_hash(source), False)
        out.write(b"%s\t%d\n" % (importlib.util.cache_from_source(dfile).encode(), len(data)))
        out.write(data)
def reap(block):
    while running:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        rid = running.pop(pid)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        if code != 0:
            os.write(1, b"%s\t%d\n" % (rid, code))
def requests():
    buf = bytearray()
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            rid, dist, size = bytes(buf[:nl]).split(b"\t")
            end = nl + 1 + int(size)
            if len(buf) >= end:
                payload = bytes(buf[nl + 1:end])
                del buf[:end]
                yield rid, dist.decode(), payload
                continue
        if select.select([0], [], [], 0.05)[0]:
            data = os.read(0, 1 << 20)
            if not data:
                return
            buf += data
        else:
            reap(False)
outdir, running = sys.argv[1], {}
for rid, dist, payload in requests():
    reap(False)
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            with open(os.path.join(outdir, rid.decode()), "wb") as out:
                compile_package(dist, io.BytesIO(payload), out)
            os.write(1, b"%s\t0\n" % rid)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(status)
    running[pid] = rid
reap(True)
`

// compiler is a running compileScript: compile sends it one package at a
// time, from any goroutine.
type compiler struct {
	cmd    *exec.Cmd
	outDir string

	mu      sync.Mutex // guards stdin, next and waiting
	stdin   io.WriteCloser
	next    int
	waiting map[string]chan int // by request ID: the child's exit status

	stderr bytes.Buffer // compile errors and tracebacks; read once exited is closed
	exited chan struct{}
	err    error // how the server ended; set before exited is closed
}

// startCompiler starts exe (the environment's python, with env) as a
// compile server; results go through files in outDir. It compiles as
// many packages at once as compile is called for. The server is stopped
// with close, or by ctx.
func startCompiler(ctx context.Context, exe string, env []string, outDir string) (*compiler, error) {
	cmd := exec.CommandContext(ctx, exe, "-S", "-B", "-c", compileScript, outDir)
	cmd.Env = env
	ownProcessGroup(cmd) // ctx stops the children too
	c := &compiler{cmd: cmd, outDir: outDir, waiting: map[string]chan int{}, exited: make(chan struct{})}
	cmd.Stderr = &c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go c.readReports(stdout)
	return c, nil
}

// readReports hands each "ID\tSTATUS" line to the compile waiting for it,
// then waits for the server to exit and fails the compiles still waiting.
func (c *compiler) readReports(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		id, status, ok := strings.Cut(sc.Text(), "\t")
		n, err := strconv.Atoi(status)
		c.mu.Lock()
		ch := c.waiting[id]
		delete(c.waiting, id)
		c.mu.Unlock()
		if ok && err == nil && ch != nil {
			ch <- n
		}
	}
	c.err = c.cmd.Wait()
	if c.err == nil {
		c.err = errors.New("exited before compiling every package")
	}
	close(c.exited)
}

// failure describes the end of the server for an error: how it exited and
// what it wrote to stderr.
func (c *compiler) failure() error {
	<-c.exited
	return fmt.Errorf("%w: %s", c.err, bytes.TrimSpace(c.stderr.Bytes()))
}

// compile compiles srcs (entries of package dist, with their content) and
// returns the .pyc files, in the order of srcs; a source that does not
// compile has none.
func (c *compiler) compile(ctx context.Context, dist string, srcs []*entry) ([]pycFile, error) {
	var req bytes.Buffer
	for _, e := range srcs {
		r, err := e.content()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&req, "/%s\t%d\n", e.Name, e.Size)
		n, err := io.Copy(&req, r)
		r.Close()
		if err == nil && n != e.Size {
			err = fmt.Errorf("%s: %d bytes, listed with %d", e.Name, n, e.Size)
		}
		if err != nil {
			return nil, err
		}
	}
	done := make(chan int, 1)
	c.mu.Lock()
	id := strconv.Itoa(c.next)
	c.next++
	c.waiting[id] = done
	_, err := fmt.Fprintf(c.stdin, "%s\t%s\t%d\n", id, dist, req.Len())
	if err == nil {
		_, err = c.stdin.Write(req.Bytes())
	}
	c.mu.Unlock()
	if err != nil { // the server is gone: say why
		return nil, c.failure()
	}
	select {
	case status := <-done:
		out := filepath.Join(c.outDir, id)
		defer os.Remove(out)
		if status != 0 { // the build stops: wait for the server to say why
			c.close()
			return nil, fmt.Errorf("compiling child exited with status %d: %s", status, bytes.TrimSpace(c.stderr.Bytes()))
		}
		f, err := os.Open(out)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readCompiled(f)
	case <-c.exited:
		return nil, c.failure()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close ends the requests and waits for the server to exit.
func (c *compiler) close() {
	c.mu.Lock()
	c.stdin.Close()
	c.mu.Unlock()
	<-c.exited
}

// readCompiled reads the .pyc files compileScript writes: "CACHE\tLENGTH\n"
// and the bytes, for each.
func readCompiled(r io.Reader) ([]pycFile, error) {
	br := bufio.NewReader(r)
	var pyc []pycFile
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return pyc, nil
		}
		if err != nil {
			return nil, fmt.Errorf("compiler output: %w", err)
		}
		name, size, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		n, perr := strconv.Atoi(size)
		if !ok || perr != nil || n < 0 || !strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("compiler output: bad line %q", line)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, fmt.Errorf("compiler output: %s: %w", name, err)
		}
		pyc = append(pyc, pycFile{Path: strings.TrimPrefix(name, "/"), SHA256: sha256Hex(data), Data: data})
	}
}
