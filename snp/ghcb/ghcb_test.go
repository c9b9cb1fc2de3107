package ghcb

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestFieldLayout(t *testing.T) {
	// Offsets and valid-bitmap bits from GHCB spec section 2.3.
	for _, tc := range []struct {
		f   Field
		off int
		bit uint
	}{
		{FieldRAX, 0x1F8, 63},
		{FieldRCX, 0x308, 97},
		{FieldRDX, 0x310, 98},
		{FieldRBX, 0x318, 99},
		{FieldSwExitCode, 0x390, 114},
		{FieldSwExitInfo1, 0x398, 115},
		{FieldSwExitInfo2, 0x3A0, 116},
		{FieldSwScratch, 0x3A8, 117},
		{FieldXCR0, 0x3E8, 125},
	} {
		if int(tc.f) != tc.off || tc.f.bit() != tc.bit {
			t.Errorf("%v: offset %#x bit %d, want %#x bit %d", tc.f, int(tc.f), tc.f.bit(), tc.off, tc.bit)
		}
		var g GHCB
		g.Set(tc.f, 0x1122334455667788)
		var p Page
		g.Marshal(&p)
		if got := binary.LittleEndian.Uint64(p[tc.off:]); got != 0x1122334455667788 {
			t.Errorf("%v: page holds %#x at %#x", tc.f, got, tc.off)
		}
		bitmap := p[ValidBitmapOffset : ValidBitmapOffset+ValidBitmapSize]
		for i := uint(0); i < 128; i++ {
			set := bitmap[i/8]&(1<<(i%8)) != 0
			if set != (i == tc.bit) {
				t.Errorf("%v: valid bit %d = %v", tc.f, i, set)
			}
		}
	}
}

func TestTrailerAndSharedBuffer(t *testing.T) {
	var g GHCB
	g.ProtocolVersion = 2
	g.Usage = 0xAABBCCDD
	g.SharedBuffer[0] = 0x5A
	g.SharedBuffer[SharedBufferSize-1] = 0xA5
	var p Page
	g.Marshal(&p)
	if p[0x800] != 0x5A || p[0xFEF] != 0xA5 || p[0xFF0] != 0 {
		t.Errorf("shared buffer misplaced: %#x %#x %#x", p[0x800], p[0xFEF], p[0xFF0])
	}
	if v := binary.LittleEndian.Uint16(p[0xFFA:]); v != 2 {
		t.Errorf("protocol version at 0xFFA = %d", v)
	}
	if u := binary.LittleEndian.Uint32(p[0xFFC:]); u != 0xAABBCCDD {
		t.Errorf("usage at 0xFFC = %#x", u)
	}
	var back GHCB
	back.Unmarshal(&p)
	if back != g {
		t.Error("Unmarshal(Marshal(g)) != g")
	}
}

func TestGetRequiresValid(t *testing.T) {
	var g GHCB
	g.RAX = 7
	var mf *MissingFieldError
	if _, err := g.Get(FieldRAX); !errors.As(err, &mf) || mf.Field != FieldRAX {
		t.Errorf("Get(unmarked RAX) = %v", err)
	}
	g.Set(FieldRAX, 9)
	if v, err := g.Get(FieldRAX); v != 9 || err != nil {
		t.Errorf("Get(RAX) = %d, %v", v, err)
	}
}

func TestResult(t *testing.T) {
	for _, tc := range []struct {
		info1, info2 uint64
		ok           bool
	}{
		{0, 0, true},
		{0xFFFF_FFFF_0000_0000, 0, true}, // only the low 32 bits carry the result
		{1, 0x8000_0B0D, false},
		{2, uint64(ErrMissingInput), false},
		{3, 0, false},
	} {
		g := GHCB{SwExitCode: uint64(ExitCPUID), SwExitInfo1: tc.info1, SwExitInfo2: tc.info2}
		if err := g.Result(); (err == nil) != tc.ok {
			t.Errorf("Result with SW_EXITINFO1 %#x = %v, want ok %v", tc.info1, err, tc.ok)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint16(0x398))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		var p Page
		copy(p[int(at)%PageSize:], data)
		var g GHCB
		g.Unmarshal(&p)
		var q Page
		g.Marshal(&q)
		var h GHCB
		h.Unmarshal(&q)
		if g != h {
			t.Fatal("Unmarshal(Marshal(Unmarshal(p))) differs")
		}
		_ = g.Result()
		for _, f := range Fields {
			_, _ = g.Get(f)
		}
	})
}
