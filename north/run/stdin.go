package run

import (
	"errors"
	"io"
)

// The launcher marks the end of standard input in the byte stream itself,
// since a UART has no end of file: StdinEscape starts a two-byte escape,
// StdinEscape StdinEscape is the byte 0xff, StdinEscape StdinEOF the end.
// qemu/stdio.go writes it.
const (
	StdinEscape = 0xff
	StdinEOF    = 0x00
)

// StdinReader decodes the launcher's standard input stream (see
// StdinEscape) from R.
type StdinReader struct {
	R   io.Reader
	esc bool // the last byte read was an unpaired StdinEscape
	err error
	raw []byte
}

// Read returns decoded bytes, and io.EOF once the end mark has arrived.
func (s *StdinReader) Read(p []byte) (int, error) {
	for len(p) > 0 && s.err == nil {
		if cap(s.raw) < len(p) {
			s.raw = make([]byte, len(p))
		}
		m, err := s.R.Read(s.raw[:len(p)])
		n := 0
		for _, c := range s.raw[:m] {
			switch {
			case s.esc && c == StdinEscape:
				p[n] = c
				n++
				s.esc = false
			case s.esc && c == StdinEOF:
				s.err = io.EOF
			case s.esc:
				s.err = errors.New("standard input: bad escape from the launcher")
			case c == StdinEscape:
				s.esc = true
			default:
				p[n] = c
				n++
			}
			if s.err != nil {
				break
			}
		}
		if err != nil && s.err == nil {
			s.err = err
		}
		if n > 0 {
			return n, nil
		}
	}
	if len(p) == 0 && s.err == nil {
		return 0, nil
	}
	return 0, s.err
}
