package vc

import (
	"bytes"
	"testing"
)

func TestDecodeIO(t *testing.T) {
	const rdx = 0x1234_5678_9ABC_03F8 // port 0x3F8
	for _, tc := range []struct {
		name string
		code []byte
		want IO
		info uint64 // EXITINFO1
	}{
		{"in al,dx", []byte{0xec}, IO{Port: 0x3F8, Size: 1, Dir: Read, AddrSize: 64, Len: 1}, 0x03F8_0211},
		{"in eax,dx", []byte{0xed}, IO{Port: 0x3F8, Size: 4, Dir: Read, AddrSize: 64, Len: 1}, 0x03F8_0241},
		{"in ax,dx", []byte{0x66, 0xed}, IO{Port: 0x3F8, Size: 2, Dir: Read, AddrSize: 64, Len: 2}, 0x03F8_0221},
		{"out dx,al", []byte{0xee}, IO{Port: 0x3F8, Size: 1, Dir: Write, AddrSize: 64, Len: 1}, 0x03F8_0210},
		{"out dx,eax", []byte{0xef}, IO{Port: 0x3F8, Size: 4, Dir: Write, AddrSize: 64, Len: 1}, 0x03F8_0240},
		{"out dx,ax", []byte{0x66, 0xef}, IO{Port: 0x3F8, Size: 2, Dir: Write, AddrSize: 64, Len: 2}, 0x03F8_0220},
		{"in al,0x80", []byte{0xe4, 0x80}, IO{Port: 0x80, Size: 1, Dir: Read, AddrSize: 64, Len: 2}, 0x0080_0211},
		{"in ax,0x71", []byte{0x66, 0xe5, 0x71}, IO{Port: 0x71, Size: 2, Dir: Read, AddrSize: 64, Len: 3}, 0x0071_0221},
		{"out 0x80,al", []byte{0xe6, 0x80}, IO{Port: 0x80, Size: 1, Dir: Write, AddrSize: 64, Len: 2}, 0x0080_0210},
		{"out 0xe9,eax", []byte{0xe7, 0xe9}, IO{Port: 0xE9, Size: 4, Dir: Write, AddrSize: 64, Len: 2}, 0x00E9_0240},
		{"rex.w in eax,dx", []byte{0x48, 0xed}, IO{Port: 0x3F8, Size: 4, Dir: Read, AddrSize: 64, Len: 2}, 0x03F8_0241},
		{"rex.w beats 66", []byte{0x66, 0x48, 0xed}, IO{Port: 0x3F8, Size: 4, Dir: Read, AddrSize: 64, Len: 3}, 0x03F8_0241},
		{"rex.b out dx,al", []byte{0x41, 0xee}, IO{Port: 0x3F8, Size: 1, Dir: Write, AddrSize: 64, Len: 2}, 0x03F8_0210},
		{"66 on a byte port", []byte{0x66, 0xec}, IO{Port: 0x3F8, Size: 1, Dir: Read, AddrSize: 64, Len: 2}, 0x03F8_0211},
		{"addr32 in al,dx", []byte{0x67, 0xec}, IO{Port: 0x3F8, Size: 1, Dir: Read, AddrSize: 32, Len: 2}, 0x03F8_0111},
		{"rep ignored on in", []byte{0xf3, 0xec}, IO{Port: 0x3F8, Size: 1, Dir: Read, AddrSize: 64, Len: 2}, 0x03F8_0211},
		{"fs ignored on out", []byte{0x64, 0xee}, IO{Port: 0x3F8, Size: 1, Dir: Write, AddrSize: 64, Len: 2}, 0x03F8_0210},
		{"insb", []byte{0x6c}, IO{Port: 0x3F8, Size: 1, Dir: Read, String: true, AddrSize: 64, Segment: ES, Len: 1}, 0x03F8_0215},
		{"rep insw", []byte{0xf3, 0x66, 0x6d}, IO{Port: 0x3F8, Size: 2, Dir: Read, String: true, Rep: true, AddrSize: 64, Segment: ES, Len: 3}, 0x03F8_022D},
		{"repne insd", []byte{0xf2, 0x6d}, IO{Port: 0x3F8, Size: 4, Dir: Read, String: true, Rep: true, AddrSize: 64, Segment: ES, Len: 2}, 0x03F8_024D},
		{"fs insb keeps es", []byte{0x64, 0x6c}, IO{Port: 0x3F8, Size: 1, Dir: Read, String: true, AddrSize: 64, Segment: ES, Len: 2}, 0x03F8_0215},
		{"rep outsb", []byte{0xf3, 0x6e}, IO{Port: 0x3F8, Size: 1, Dir: Write, String: true, Rep: true, AddrSize: 64, Segment: DS, Len: 2}, 0x03F8_0E1C},
		{"cs outsb (no effect)", []byte{0x2e, 0x6e}, IO{Port: 0x3F8, Size: 1, Dir: Write, String: true, AddrSize: 64, Segment: DS, Len: 2}, 0x03F8_0E14},
		{"gs outsw", []byte{0x65, 0x66, 0x6f}, IO{Port: 0x3F8, Size: 2, Dir: Write, String: true, AddrSize: 64, Segment: GS, Len: 3}, 0x03F8_1624},
		{"fs addr32 rep outsd", []byte{0x64, 0x67, 0xf3, 0x6f}, IO{Port: 0x3F8, Size: 4, Dir: Write, String: true, Rep: true, AddrSize: 32, Segment: FS, Len: 4}, 0x03F8_114C},
		{"rex.w outsd", []byte{0x48, 0x6f}, IO{Port: 0x3F8, Size: 4, Dir: Write, String: true, AddrSize: 64, Segment: DS, Len: 2}, 0x03F8_0E44},
		{"14 prefixes", append(bytes.Repeat([]byte{0x3e}, 14), 0xec), IO{Port: 0x3F8, Size: 1, Dir: Read, AddrSize: 64, Len: 15}, 0x03F8_0211},
	} {
		code := append(tc.code[:len(tc.code):len(tc.code)], 0x90, 0x90) // trailing bytes are not part of the instruction
		got, st := DecodeIO(code, rdx)
		if st != OK || got != tc.want {
			t.Errorf("DecodeIO(%s) = %+v, %v; want %+v", tc.name, got, st, tc.want)
			continue
		}
		if info := got.ExitInfo1(); info != tc.info {
			t.Errorf("DecodeIO(%s).ExitInfo1() = %#x, want %#x", tc.name, info, tc.info)
		}
	}
}

func TestDecodeIORejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		want Status
	}{
		{"empty", nil, Truncated},
		{"prefix only", []byte{0xf3}, Truncated},
		{"rex only", []byte{0x48}, Truncated},
		{"in al,imm8 without imm8", []byte{0xe4}, Truncated},
		{"15 prefixes", append(bytes.Repeat([]byte{0x3e}, 15), 0xec), Truncated},
		{"imm8 beyond 15 bytes", append(bytes.Repeat([]byte{0x3e}, 14), 0xe4, 0x80), Truncated},
		{"lock in", []byte{0xf0, 0xec}, BadPrefix},
		{"lock rep outsb", []byte{0xf3, 0xf0, 0x6e}, BadPrefix},
		{"rex before 66", []byte{0x48, 0x66, 0xed}, Unsupported},
		{"two rex", []byte{0x48, 0x41, 0xec}, Unsupported},
		{"nop", []byte{0x90}, Unsupported},
		{"mov eax,[rdi]", []byte{0x8b, 0x07}, Unsupported},
		{"movsb", []byte{0xa4}, Unsupported},
	} {
		if got, st := DecodeIO(tc.code, 0x3F8); st != tc.want {
			t.Errorf("DecodeIO(%s) = %+v, %v; want %v", tc.name, got, st, tc.want)
		}
	}
}
