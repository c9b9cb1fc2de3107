package secrets

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

func TestLayout(t *testing.T) {
	p := &Page{Version: Version3, IMIEnabled: true, FMS: 0x00A00F11, TSCFactor: 0x1234}
	for i := range p.VMPCK {
		for j := range p.VMPCK[i] {
			p.VMPCK[i][j] = byte(0x10*i + 1)
		}
	}
	p.GOSVW[0] = 0xEE
	p.VMSATweakBitmap[63] = 0x77
	p.OSArea = OSArea{MsgSeqNo: [4]uint64{1, 0x1_0000_0002, 3, 4}, APJumpTablePA: 0xF000, Version: 1}
	p.OSArea.GuestUsage[31] = 0x99
	b := p.Marshal()
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	// Offsets from the SNP Firmware ABI secrets page table and GHCB spec 2.7.
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"VERSION @0x0", uint64(u32(0x0)), 3},
		{"IMIEN @0x4", uint64(u32(0x4)), 1},
		{"FMS @0x8", uint64(u32(0x8)), 0x00A00F11},
		{"GOSVW @0x10", uint64(b[0x10]), 0xEE},
		{"VMPCK0 @0x20", uint64(b[0x20]), 0x01},
		{"VMPCK1 @0x40", uint64(b[0x40]), 0x11},
		{"VMPCK2 @0x60", uint64(b[0x60]), 0x21},
		{"VMPCK3 @0x80..0x9F", uint64(b[0x9F]), 0x31},
		{"seqno0 lo @0xA0", uint64(u32(0xA0)), 1},
		{"seqno1 lo @0xA4", uint64(u32(0xA4)), 2},
		{"AP jump table @0xB0", binary.LittleEndian.Uint64(b[0xB0:]), 0xF000},
		{"seqno1 hi @0xBC", uint64(u32(0xBC)), 1},
		{"OS area version @0xDE", uint64(binary.LittleEndian.Uint16(b[0xDE:])), 1},
		{"guest usage @0xE0..0xFF", uint64(b[0xFF]), 0x99},
		{"tweak bitmap @0x100..0x13F", uint64(b[0x13F]), 0x77},
		{"TSC factor @0x160", uint64(u32(0x160)), 0x1234},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if *back != *p {
		t.Errorf("Parse(Marshal(p)) = %+v, want %+v", back, p)
	}
}

func TestVersion2IgnoresV3Fields(t *testing.T) {
	b := (&Page{Version: Version2}).Marshal()
	b[0x100] = 0xFF
	binary.LittleEndian.PutUint32(b[0x160:], 7)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.VMSATweakBitmap[0] != 0 || p.TSCFactor != 0 {
		t.Errorf("version 2 page parsed version 3 fields: %+v", p)
	}
}

func TestParseRejects(t *testing.T) {
	for _, v := range []uint32{0, 1, 4, 0xFFFFFFFF} {
		_, err := Parse((&Page{Version: v}).Marshal())
		if err == nil {
			t.Errorf("Parse accepted version %d", v)
		}
		if r := ghcbmsr.ReasonFor(err); r.Code != ghcbmsr.ReasonSecretsPage {
			t.Errorf("ReasonFor = %v", r)
		}
	}
	if _, err := Parse(make([]byte, 100)); err == nil {
		t.Error("Parse accepted a short page")
	}
}

func TestKey(t *testing.T) {
	p := &Page{Version: Version3}
	p.VMPCK[2][5] = 1
	if _, err := p.Key(0); err == nil {
		t.Error("Key(0) returned an all-zero key")
	}
	if k, err := p.Key(2); err != nil || len(k) != KeySize || k[5] != 1 {
		t.Errorf("Key(2) = %x, %v", k, err)
	}
	if _, err := p.Key(4); err == nil {
		t.Error("Key(4) succeeded")
	}
}

func FuzzParse(f *testing.F) {
	f.Add((&Page{Version: Version3}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(p.Marshal())
		if err != nil || *again != *p {
			t.Fatalf("Parse(Marshal(Parse(b))) = %+v, %v; want %+v", again, err, p)
		}
	})
}
