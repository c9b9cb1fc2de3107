package skimage

import (
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzParse: any skloader.bin is parsed or refused, never a panic, and a
// parsed header is consistent (kernel length nonzero and within the
// memory size, a command line without NUL that fits its page).
func FuzzParse(f *testing.F) {
	good := make([]byte, LoaderSize)
	copy(good[OffMagic:], Magic)
	binary.LittleEndian.PutUint64(good[OffKernelLen:], 7<<20)
	binary.LittleEndian.PutUint64(good[OffMemLen:], 44<<20)
	copy(good[OffCmdline:], "cocoon.args=x")
	f.Add(good)
	f.Add(good[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			return
		}
		if h.KernelLen == 0 || h.MemLen < h.KernelLen || strings.IndexByte(h.Cmdline, 0) >= 0 || len(h.Cmdline) > MaxCmdline {
			t.Fatalf("inconsistent header accepted: %+v", h)
		}
	})
}
