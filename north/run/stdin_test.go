package run

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// encode is the launcher's side (qemu/stdio.go), restated.
func encode(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c == StdinEscape {
			out = append(out, StdinEscape)
		}
		out = append(out, c)
	}
	return append(out, StdinEscape, StdinEOF)
}

func TestStdinReader(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		data := make([]byte, r.IntN(3000))
		for j := range data {
			if r.IntN(4) == 0 {
				data[j] = 0xff
			} else {
				data[j] = byte(r.Uint32())
			}
		}
		// Trailing bytes after the end mark are not input.
		stream := append(encode(data), 'x', 'y')
		got, err := io.ReadAll(&StdinReader{R: iotest.OneByteReader(bytes.NewReader(stream))})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("case %d: %v, %d bytes, want %d", i, err, len(got), len(data))
		}
		got, err = io.ReadAll(&StdinReader{R: bytes.NewReader(stream)})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("case %d, whole reads: %v", i, err)
		}
	}
	if _, err := io.ReadAll(&StdinReader{R: bytes.NewReader([]byte{'a', StdinEscape, 'z'})}); err == nil || err == io.EOF {
		t.Errorf("a bad escape gave %v", err)
	}
	if _, err := io.ReadAll(&StdinReader{R: bytes.NewReader([]byte{'a'})}); err != nil {
		t.Errorf("a stream cut short: %v, want plain end of file", err)
	}
}
