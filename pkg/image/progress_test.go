package image

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// progressStep is one call a build makes on a LayerProgress.
type progressStep struct {
	start []string     // LayerStarted with these packages, or
	done  *LayerReport // Progress with this layer
}

func runProgress(p *LayerProgress, total int, steps []progressStep) {
	var opts Options
	p.Hook(&opts)
	for _, s := range steps {
		if s.done != nil {
			opts.Progress(*s.done)
		} else {
			opts.LayerStarted(s.start, total)
		}
	}
}

// screen plays what a terminal does with the text and the escapes the live
// renderer writes (cursor up, carriage return, erase to end of screen) and
// returns the lines left on screen.
func screen(t *testing.T, out string) []string {
	t.Helper()
	lines := []string{""}
	row := 0
	esc := regexp.MustCompile(`^\x1b\[(\d*)([AJK])`)
	for len(out) > 0 {
		if m := esc.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				if row -= n; row < 0 {
					t.Fatalf("cursor moved above the first line: %q", out)
				}
			case "J":
				lines = append(lines[:row], "")
			}
			out = out[len(m[0]):]
			continue
		}
		r, size := utf8.DecodeRuneInString(out)
		switch r {
		case '\x1b':
			t.Fatalf("unexpected escape: %q", out)
		case '\r':
			lines[row] = "" // only ever followed by an erase here
		case '\n':
			if row++; row == len(lines) {
				lines = append(lines, "")
			}
		default:
			lines[row] += string(r)
		}
		out = out[size:]
	}
	return lines[:len(lines)-1] // the cursor rests on an empty last line
}

func TestLayerProgress(t *testing.T) {
	a := &LayerReport{Size: 2 << 20, Packages: []string{"python-3.11"}}
	b := &LayerReport{Size: 1536, Packages: []string{"jq-1.6", "libjq-1.6"}}
	steps := []progressStep{{start: a.Packages}, {start: b.Packages}, {done: b}, {done: a}}
	tests := []struct {
		name   string
		live   bool
		width  int
		steps  []progressStep
		closed bool
		want   []string
	}{{
		name:  "plain lines, one per finished layer",
		steps: steps, closed: true,
		want: []string{"linux/amd64: layer 1/2 (jq-1.6 libjq-1.6): 1.5 KiB", "linux/amd64: layer 2/2 (python-3.11): 2.0 MiB"},
	}, {
		name:  "plain shows nothing while layers are written",
		steps: steps[:2],
		want:  nil,
	}, {
		name: "live: layers in progress and the count",
		live: true, width: 80, steps: steps[:2],
		want: []string{"  writing python-3.11", "  writing jq-1.6 libjq-1.6", "linux/amd64: 0/2 layers, 0 B"},
	}, {
		name: "live: a finished layer moves above the live area",
		live: true, width: 80, steps: steps[:3],
		want: []string{"linux/amd64: layer 1/2 (jq-1.6 libjq-1.6): 1.5 KiB", "  writing python-3.11", "linux/amd64: 1/2 layers, 1.5 KiB"},
	}, {
		name: "live, closed: only the finished lines stay",
		live: true, width: 80, steps: steps, closed: true,
		want: []string{"linux/amd64: layer 1/2 (jq-1.6 libjq-1.6): 1.5 KiB", "linux/amd64: layer 2/2 (python-3.11): 2.0 MiB"},
	}, {
		name: "live lines are cut to the terminal width",
		live: true, width: 16, steps: steps[:1],
		want: []string{"  writing pyth…", "linux/amd64: 0…"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewLayerProgress(&out, "linux/amd64", tt.live, tt.width)
			runProgress(p, 2, tt.steps)
			if tt.closed {
				p.Close()
			}
			if !tt.live && strings.Contains(out.String(), "\x1b") {
				t.Errorf("plain output holds escapes: %q", out.String())
			}
			got := screen(t, out.String())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("screen:\n%s\nwant:\n%s\n(raw %q)", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), out.String())
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3072.0 MiB"}} {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestPushProgress(t *testing.T) {
	blobs := []BlobPushed{{Done: 1, Total: 2, Bytes: 2048}, {Done: 2, Total: 2, Bytes: 3 << 20}}
	tests := []struct {
		name  string
		live  bool
		width int
		want  string
	}{
		{"plain lines", false, 0, "push reg/app: 1/2 blobs, 2.0 KiB\npush reg/app: 2/2 blobs, 3.0 MiB\n"},
		{"live line rewritten, ended by Close", true, 80,
			"\r\x1b[Kpush reg/app: 1/2 blobs, 2.0 KiB\r\x1b[Kpush reg/app: 2/2 blobs, 3.0 MiB\n"},
		{"live line cut to the width", true, 20, "\r\x1b[Kpush reg/app: 1/2 …\r\x1b[Kpush reg/app: 2/2 …\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p := NewPushProgress(&b, "reg/app", tt.live, tt.width)
			for _, e := range blobs {
				p.Blob(e)
			}
			p.Close()
			p.Close() // a second Close writes nothing
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}
