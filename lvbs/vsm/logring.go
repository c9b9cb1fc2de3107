package vsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The log ring is Cocoon's own format, in secure-kernel pages that VTL0
// may read and not write (docs/LVBS.md, "Log ring"):
//
//	0  magic "COCOLOG1" (8)
//	8  data size in bytes (4)
//	12 reserved, zero (4)
//	16 head: bytes ever written (8)
//	24 records ever written (8)
//	32 reserved, zero (32)
//	64 data: a byte ring; byte i of the stream is at 64 + i mod size
//
// Records are text lines. VTL0 reads it while VTL1 is not running (VTL1
// only runs inside VTL calls and intercepts of the same VP), so a reader
// never sees a write in progress.
const (
	logMagic      = "COCOLOG1"
	logHeaderSize = 64
)

// LogRing writes the log.
type LogRing struct {
	b    []byte
	size uint64
	head uint64
	recs uint64
}

// NewLogRing formats b as an empty log ring.
func NewLogRing(b []byte) (*LogRing, error) {
	if len(b) < 4096 || len(b)%4096 != 0 {
		return nil, fmt.Errorf("vsm: log ring of %d bytes; want whole pages", len(b))
	}
	clear(b)
	copy(b, logMagic)
	size := uint64(len(b) - logHeaderSize)
	binary.LittleEndian.PutUint32(b[8:], uint32(size))
	return &LogRing{b: b, size: size}, nil
}

// Printf appends one record.
func (l *LogRing) Printf(format string, args ...any) {
	line := fmt.Appendf(nil, format, args...)
	if n := len(line); n == 0 || line[n-1] != '\n' {
		line = append(line, '\n')
	}
	for _, c := range line {
		l.b[logHeaderSize+l.head%l.size] = c
		l.head++
	}
	l.recs++
	binary.LittleEndian.PutUint64(l.b[16:], l.head)
	binary.LittleEndian.PutUint64(l.b[24:], l.recs)
}

// ReadLog decodes a log ring as VTL0 sees it: the bytes still held, oldest
// first. It validates the header, which VTL0 cannot trust to be well
// formed if VTL1 were compromised or the pages not what it thinks.
func ReadLog(b []byte) ([]byte, error) {
	if len(b) < logHeaderSize || !bytes.Equal(b[:8], []byte(logMagic)) {
		return nil, fmt.Errorf("vsm: not a Cocoon log ring")
	}
	size := uint64(binary.LittleEndian.Uint32(b[8:]))
	if size == 0 || size > uint64(len(b)-logHeaderSize) {
		return nil, fmt.Errorf("vsm: log ring data size %d does not fit %d bytes", size, len(b))
	}
	head := binary.LittleEndian.Uint64(b[16:])
	data := b[logHeaderSize : logHeaderSize+size]
	if head <= size {
		return append([]byte(nil), data[:head]...), nil
	}
	start := head % size
	return append(append([]byte(nil), data[start:]...), data[:start]...), nil
}
