package image

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// LayerProgress shows Build's package layers on w as they are written. Each
// finished layer gets a line. With live set (w is a terminal), the layers
// being written and a count are shown below those lines and redrawn in
// place; without it (CI, a pipe, a log file) only the plain lines appear, so
// logs stay readable.
type LayerProgress struct {
	w     io.Writer
	label string
	live  bool
	width int

	mu     sync.Mutex
	total  int
	done   int
	size   int64
	active [][]string // packages of the layers being written, in start order
	drawn  int        // lines of the live area now on screen
}

// NewLayerProgress returns a reporter writing to w, each line starting with
// label (the platform). width is the terminal's width in columns; live lines
// are cut to it so that none wraps and the redraw stays aligned. width ≤ 0
// means 80.
func NewLayerProgress(w io.Writer, label string, live bool, width int) *LayerProgress {
	if width <= 0 {
		width = 80
	}
	return &LayerProgress{w: w, label: label, live: live, width: width}
}

// Hook makes opts report to p.
func (p *LayerProgress) Hook(opts *Options) {
	opts.LayerStarted = p.started
	opts.Progress = p.finished
}

func (p *LayerProgress) started(packages []string, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.active = append(p.active, packages)
	p.redraw("")
}

func (p *LayerProgress) finished(l LayerReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.size += l.Size
	for i, a := range p.active {
		if strings.Join(a, " ") == strings.Join(l.Packages, " ") {
			p.active = append(p.active[:i], p.active[i+1:]...)
			break
		}
	}
	line := fmt.Sprintf("%s: layer %d/%d (%s): %s", p.label, p.done, p.total, strings.Join(l.Packages, " "), FormatSize(l.Size))
	if l.Reused {
		line += ", in the registry already"
	}
	if !p.live {
		fmt.Fprintln(p.w, line)
		return
	}
	p.redraw(line)
}

// Close removes the live area, leaving the finished layers' lines.
func (p *LayerProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = nil
	if p.live && p.drawn > 0 {
		io.WriteString(p.w, p.erase())
		p.drawn = 0
	}
}

// redraw replaces the live area with the finished line (if any), then the
// layers in progress and the count. Without live it does nothing.
func (p *LayerProgress) redraw(finished string) {
	if !p.live {
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		b.WriteString(p.erase())
	}
	if finished != "" {
		b.WriteString(finished + "\n")
	}
	for _, a := range p.active {
		b.WriteString(p.cut("  writing " + strings.Join(a, " ")))
		b.WriteString("\n")
	}
	b.WriteString(p.cut(fmt.Sprintf("%s: %d/%d layers, %s", p.label, p.done, p.total, FormatSize(p.size))))
	b.WriteString("\n")
	p.drawn = len(p.active) + 1
	io.WriteString(p.w, b.String())
}

// erase returns the escapes that move the cursor up to the live area's
// first line and clear from there to the end of the screen.
func (p *LayerProgress) erase() string {
	return fmt.Sprintf("\x1b[%dA\r\x1b[J", p.drawn)
}

// cut shortens s to the terminal's width, marking the cut with "…".
func (p *LayerProgress) cut(s string) string { return cutLine(s, p.width) }

// cutLine shortens s to width columns, marking the cut with "…".
func cutLine(s string, width int) string {
	r := []rune(s)
	if len(r) <= width-1 { // the last column would make some terminals wrap
		return s
	}
	return string(r[:width-2]) + "…"
}

// FormatSize writes a byte count for people: B, KiB or MiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// PushProgress shows a push's blobs on w: with live set, one count line
// rewritten in place; otherwise a plain line per blob.
type PushProgress struct {
	w     io.Writer
	label string
	live  bool
	width int
	shown bool
}

// NewPushProgress returns a reporter for Push's PushOptions.Progress; label
// names the destination. width is as for NewLayerProgress.
func NewPushProgress(w io.Writer, label string, live bool, width int) *PushProgress {
	if width <= 0 {
		width = 80
	}
	return &PushProgress{w: w, label: label, live: live, width: width}
}

// Blob reports one more blob pushed (Push calls it one at a time).
func (p *PushProgress) Blob(b BlobPushed) {
	line := fmt.Sprintf("push %s: %d/%d blobs, %s", p.label, b.Done, b.Total, FormatSize(b.Bytes))
	if !p.live {
		fmt.Fprintln(p.w, line)
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", cutLine(line, p.width))
	p.shown = true
}

// Close ends the live line.
func (p *PushProgress) Close() {
	if p.live && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
