package cbpf

import (
	"errors"
	"testing"
)

// prog builds a program from (code, jt, jf, k) quadruples.
func prog(q ...[4]uint32) []Insn {
	p := make([]Insn, len(q))
	for i, e := range q {
		p[i] = Insn{Code: uint16(e[0]), Jt: uint8(e[1]), Jf: uint8(e[2]), K: e[3]}
	}
	return p
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		p    []Insn
		ok   bool
	}{
		{"ret", prog([4]uint32{0x06, 0, 0, 0xffff}), true},
		{"empty", nil, false},
		{"no ret at the end", prog([4]uint32{0x00, 0, 0, 1}), false},
		{"unknown code", prog([4]uint32{0x0e, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"neg with X", prog([4]uint32{0x8c, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"div by 0", prog([4]uint32{0x34, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"mod by 0", prog([4]uint32{0x94, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"div by X", prog([4]uint32{0x3c, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), true},
		{"lsh 32", prog([4]uint32{0x64, 0, 0, 32}, [4]uint32{0x06, 0, 0, 0}), false},
		{"lsh 31", prog([4]uint32{0x64, 0, 0, 31}, [4]uint32{0x06, 0, 0, 0}), true},
		{"st M[16]", prog([4]uint32{0x02, 0, 0, 16}, [4]uint32{0x06, 0, 0, 0}), false},
		{"ld M[0] unwritten", prog([4]uint32{0x60, 0, 0, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"ld M[0] written", prog([4]uint32{0x02, 0, 0, 0}, [4]uint32{0x60, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), true},
		{"ld M[0] written on one path", prog([4]uint32{0x15, 1, 0, 0}, [4]uint32{0x02, 0, 0, 0},
			[4]uint32{0x60, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), false},
		{"ja past the end", prog([4]uint32{0x05, 0, 0, 1}, [4]uint32{0x06, 0, 0, 0}), false},
		{"ja", prog([4]uint32{0x05, 0, 0, 1}, [4]uint32{0x06, 0, 0, 0}, [4]uint32{0x06, 0, 0, 1}), true},
		{"jeq past the end", prog([4]uint32{0x15, 0, 1, 0}, [4]uint32{0x06, 0, 0, 0}), false},
		{"ancillary protocol", prog([4]uint32{0x28, 0, 0, adOff}, [4]uint32{0x16, 0, 0, 0}), true},
		{"ancillary max", prog([4]uint32{0x28, 0, 0, adOff + adMax}, [4]uint32{0x16, 0, 0, 0}), false},
		{"ancillary odd", prog([4]uint32{0x28, 0, 0, adOff + 2}, [4]uint32{0x16, 0, 0, 0}), false},
		{"net offset", prog([4]uint32{0x30, 0, 0, netOff}, [4]uint32{0x16, 0, 0, 0}), true},
	} {
		err := Check(c.p)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: Check = %v, want ok %v", c.name, err, c.ok)
		}
	}
	long := make([]Insn, MaxInsns+1)
	for i := range long {
		long[i] = Insn{Code: 0x06}
	}
	if Check(long) == nil || Check(long[:MaxInsns]) != nil {
		t.Errorf("a program of %d instructions must be refused, one of %d accepted", MaxInsns+1, MaxInsns)
	}
}

func TestRun(t *testing.T) {
	data := []byte{0x45, 0x00, 0x12, 0x34, 0xab, 0xcd}
	pkt := &Packet{Data: data, Protocol: 0x0800, Mark: 7}
	for _, c := range []struct {
		name string
		p    []Insn
		want uint32
	}{
		{"ret k", prog([4]uint32{0x06, 0, 0, 9}), 9},
		{"len", prog([4]uint32{0x80, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), 6},
		{"ld h abs", prog([4]uint32{0x28, 0, 0, 2}, [4]uint32{0x16, 0, 0, 0}), 0x1234},
		{"ld w abs", prog([4]uint32{0x20, 0, 0, 2}, [4]uint32{0x16, 0, 0, 0}), 0x1234abcd},
		{"ld beyond", prog([4]uint32{0x20, 0, 0, 3}, [4]uint32{0x06, 0, 0, 5}), 0},
		{"msh", prog([4]uint32{0xb1, 0, 0, 0}, [4]uint32{0x87, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), 20},
		{"ind", prog([4]uint32{0x01, 0, 0, 4}, [4]uint32{0x50, 0, 0, 1}, [4]uint32{0x16, 0, 0, 0}), 0xcd},
		{"protocol", prog([4]uint32{0x28, 0, 0, adOff}, [4]uint32{0x16, 0, 0, 0}), 0x800},
		{"mark", prog([4]uint32{0x20, 0, 0, adOff + AdMark}, [4]uint32{0x16, 0, 0, 0}), 7},
		{"ifindex without a device", prog([4]uint32{0x20, 0, 0, adOff + AdIfindex}, [4]uint32{0x06, 0, 0, 5}), 0},
		{"net header absent", prog([4]uint32{0x30, 0, 0, netOff}, [4]uint32{0x06, 0, 0, 5}), 0},
		{"div by X 0", prog([4]uint32{0x3c, 0, 0, 0}, [4]uint32{0x06, 0, 0, 5}), 0},
		{"jeq taken", prog([4]uint32{0x30, 0, 0, 0}, [4]uint32{0x15, 0, 1, 0x45}, [4]uint32{0x06, 0, 0, 1},
			[4]uint32{0x06, 0, 0, 2}), 1},
		{"jgt not taken", prog([4]uint32{0x30, 0, 0, 0}, [4]uint32{0x25, 0, 1, 0x45}, [4]uint32{0x06, 0, 0, 1},
			[4]uint32{0x06, 0, 0, 2}), 2},
		{"memory", prog([4]uint32{0x00, 0, 0, 3}, [4]uint32{0x02, 0, 0, 15}, [4]uint32{0x00, 0, 0, 0},
			[4]uint32{0x61, 0, 0, 15}, [4]uint32{0x87, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), 3},
		{"neg", prog([4]uint32{0x00, 0, 0, 1}, [4]uint32{0x84, 0, 0, 0}, [4]uint32{0x16, 0, 0, 0}), 0xffffffff},
	} {
		if err := Check(c.p); err != nil {
			t.Errorf("%s: Check: %v", c.name, err)
			continue
		}
		if got := Run(c.p, pkt); got != c.want {
			t.Errorf("%s: Run = %#x, want %#x", c.name, got, c.want)
		}
	}
	if got := Decode(Encode(prog([4]uint32{0x15, 3, 4, 0xdeadbeef}))); got[0] != (Insn{0x15, 3, 4, 0xdeadbeef}) {
		t.Errorf("Decode(Encode) = %+v", got)
	}
}

// FuzzFilter checks and runs programs from the fuzzer's bytes over a
// packet of its bytes: neither may panic, and a program Check accepts
// must end (Run's jumps go forward only).
func FuzzFilter(f *testing.F) {
	f.Add(Encode(prog([4]uint32{0x28, 0, 0, 0}, [4]uint32{0x15, 0, 1, 0x800}, [4]uint32{0x06, 0, 0, 0xffff},
		[4]uint32{0x06, 0, 0, 0})), []byte{8, 0, 1, 2})
	f.Add(Encode(prog([4]uint32{0x20, 0, 0, adOff + AdNlattrNest}, [4]uint32{0x16, 0, 0, 0})), []byte{8, 0, 1, 0, 4, 0, 2, 0})
	f.Fuzz(func(t *testing.T, code, data []byte) {
		p := Decode(code)
		if Check(p) != nil {
			return
		}
		n := 0
		pkt := &Packet{Data: data, Net: append([]byte{0x45, 0, 0, 0}, data...), Ifindex: 1, Random: func() uint32 { n++; return uint32(n) }}
		Run(p, pkt)
		pkt.Net, pkt.Ifindex = nil, 0
		Run(p, pkt)
	})
}
