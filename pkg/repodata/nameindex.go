package repodata

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/condabox/condabox/pkg/atomicfile"
)

// The name index of a cached repodata.json is saved beside it as
// <hash>.names, so that a load within the TTL or after a 304 reads a small
// file instead of scanning hundreds of MB again. It is tied to the data
// file by size and mtime, like the state file, and rebuilt when they differ.
//
// Format: magic, size, mtime_ns, info, then per name: the name, its span
// count and each span as offset (a delta from the previous one), length and
// section. Integers are varints.
const nameIndexMagic = "condabox-names-1\n"

// writeNameIndex saves ix for the data file of the given size and mtime.
func writeNameIndex(path string, size, mtimeNS int64, ix *nameIndex) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		var buf []byte
		buf = append(buf, nameIndexMagic...)
		buf = binary.AppendVarint(buf, size)
		buf = binary.AppendVarint(buf, mtimeNS)
		buf = binary.AppendUvarint(buf, uint64(len(ix.info)))
		buf = append(buf, ix.info...)
		buf = binary.AppendUvarint(buf, uint64(len(ix.spans)))
		bw.Write(buf)
		names := make([]string, len(ix.spans))
		for name, id := range ix.ids {
			names[id] = name
		}
		for id, spans := range ix.spans {
			buf = binary.AppendUvarint(buf[:0], uint64(len(names[id])))
			buf = append(buf, names[id]...)
			buf = binary.AppendUvarint(buf, uint64(len(spans)))
			prev := int64(0)
			for _, sp := range spans {
				buf = binary.AppendVarint(buf, sp.off-prev)
				buf = binary.AppendUvarint(buf, uint64(sp.n))
				c := byte(0)
				if sp.conda {
					c = 1
				}
				buf = append(buf, c)
				prev = sp.off
			}
			bw.Write(buf)
		}
		return bw.Flush()
	})
}

var errStaleNameIndex = errors.New("name index does not describe the data file")

// readNameIndex loads a saved name index for the data file of the given
// size and mtime. Any problem is an error: the caller scans instead.
func readNameIndex(path string, size, mtimeNS int64) (*nameIndex, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeNameIndex(data, size, mtimeNS)
}

func decodeNameIndex(data []byte, size, mtimeNS int64) (*nameIndex, error) {
	r := bytes.NewReader(data)
	magic := make([]byte, len(nameIndexMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != nameIndexMagic {
		return nil, fmt.Errorf("name index: bad magic")
	}
	gotSize, err1 := binary.ReadVarint(r)
	gotMtime, err2 := binary.ReadVarint(r)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("name index: %w", err)
	}
	if gotSize != size || gotMtime != mtimeNS {
		return nil, errStaleNameIndex
	}
	// bytesOf reads a length-prefixed byte string, refusing lengths beyond
	// the data so that a corrupt file cannot make us allocate wildly.
	bytesOf := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return nil, errors.Join(err, io.ErrUnexpectedEOF)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	ix := &nameIndex{ids: map[string]int{}}
	var err error
	if ix.info, err = bytesOf(); err != nil {
		return nil, fmt.Errorf("name index: info: %w", err)
	}
	if len(ix.info) == 0 {
		ix.info = nil
	}
	count, err := binary.ReadUvarint(r)
	if err != nil || count > uint64(r.Len()) {
		return nil, fmt.Errorf("name index: name count: %w", errors.Join(err, io.ErrUnexpectedEOF))
	}
	ix.spans = make([][]span, 0, count)
	for range count {
		name, err := bytesOf()
		if err != nil {
			return nil, fmt.Errorf("name index: name: %w", err)
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return nil, fmt.Errorf("name index: span count: %w", errors.Join(err, io.ErrUnexpectedEOF))
		}
		spans := make([]span, n)
		prev := int64(0)
		for i := range spans {
			delta, err1 := binary.ReadVarint(r)
			length, err2 := binary.ReadUvarint(r)
			section, err3 := r.ReadByte()
			off := prev + delta
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("name index: span: %w", err)
			}
			if off < 0 || length > 1<<31-1 || off+int64(length) > size || section > 1 {
				return nil, fmt.Errorf("name index: span %d+%d outside the data file", off, length)
			}
			spans[i] = span{off: off, n: int32(length), conda: section == 1}
			prev = off
		}
		if _, dup := ix.ids[string(name)]; dup {
			return nil, fmt.Errorf("name index: %q twice", name)
		}
		ix.ids[string(name)] = len(ix.spans)
		ix.spans = append(ix.spans, spans)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("name index: %d bytes after the end", r.Len())
	}
	return ix, nil
}
