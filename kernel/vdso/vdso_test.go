package vdso

import (
	"bytes"
	"encoding/binary"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

func TestImageMatchesBuild(t *testing.T) {
	if !bytes.Equal(Image[:], Build()[:DataOff]) {
		t.Fatal("image.go is stale: run go generate ./kernel/vdso")
	}
}

// The hashes Go's runtime uses to find the symbol and its version
// (runtime/vdso_linux_amd64.go, vdso_linux.go).
func TestHashesMatchGoRuntime(t *testing.T) {
	if h := Hash(SymbolName); h != 0xd35ec75 {
		t.Errorf("Hash(%q) = %#x, want 0xd35ec75", SymbolName, h)
	}
	if h := Hash(Version); h != 0x3ae75f6 {
		t.Errorf("Hash(%q) = %#x, want 0x3ae75f6", Version, h)
	}
}

// TestLookupLikeGoRuntime finds __vdso_clock_gettime the way Go's runtime
// does: PT_LOAD and PT_DYNAMIC, the dynamic tags, DT_HASH, versym and
// verdef.
func TestLookupLikeGoRuntime(t *testing.T) {
	img := Build()
	le := binary.LittleEndian
	phoff, phnum := le.Uint64(img[32:]), le.Uint16(img[56:])
	var loadOffset int64 = -1
	var dyn uint64
	for i := uint64(0); i < uint64(phnum); i++ {
		p := img[phoff+56*i:]
		switch le.Uint32(p) {
		case ptLoad:
			if loadOffset < 0 {
				loadOffset = int64(le.Uint64(p[8:]) - le.Uint64(p[16:]))
			}
		case ptDynamic:
			dyn = le.Uint64(p[8:])
		}
	}
	if loadOffset != 0 || dyn == 0 {
		t.Fatalf("load offset %d, dynamic at %#x", loadOffset, dyn)
	}
	tags := map[uint64]uint64{}
	for i := dyn; le.Uint64(img[i:]) != dtNull; i += 16 {
		tags[le.Uint64(img[i:])] = le.Uint64(img[i+8:])
	}
	str, sym, hash, versym, verdef := tags[dtStrtab], tags[dtSymtab], tags[dtHash], tags[dtVersym], tags[dtVerdef]
	cstr := func(off uint64) string {
		b := img[str+off:]
		return string(b[:bytes.IndexByte(b, 0)])
	}
	// The version index of LINUX_2.6.
	ver := -1
	for d := verdef; ; {
		if le.Uint16(img[d+2:])&1 == 0 && le.Uint32(img[d+8:]) == Hash(Version) && cstr(uint64(le.Uint32(img[d+uint64(le.Uint32(img[d+12:])):]))) == Version {
			ver = int(le.Uint16(img[d+4:]) & 0x7fff)
		}
		next := le.Uint32(img[d+16:])
		if next == 0 {
			break
		}
		d += uint64(next)
	}
	if ver < 0 {
		t.Fatal("version LINUX_2.6 not found")
	}
	nbucket := le.Uint32(img[hash:])
	found := uint64(0)
	for c := le.Uint32(img[hash+8+4*uint64(Hash(SymbolName)%nbucket):]); c != 0; c = le.Uint32(img[hash+8+4*uint64(nbucket)+4*uint64(c):]) {
		s := img[sym+24*uint64(c):]
		if s[4]&0xf == 2 && s[4]>>4 == 1 && le.Uint16(s[6:]) != 0 && cstr(uint64(le.Uint32(s))) == SymbolName &&
			int(le.Uint16(img[versym+2*uint64(c):])&0x7fff) == ver {
			found = le.Uint64(s[8:])
			break
		}
	}
	if found != codeOff {
		t.Fatalf("symbol at %#x, want %#x", found, codeOff)
	}
}

// TestCodeDecodes checks the hand-assembled code: every instruction
// decodes, every branch lands on an instruction, and the data page is
// where the LEA points.
func TestCodeDecodes(t *testing.T) {
	img := Build()
	code := img[codeOff : codeOff+len(ClockGettime)]
	starts := map[int]bool{}
	var branches [][2]int
	for pc := 0; pc < len(code); {
		in, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			t.Fatalf("offset %d: %v", pc, err)
		}
		starts[pc] = true
		if in.Op == x86asm.JE || in.Op == x86asm.JMP {
			branches = append(branches, [2]int{pc, pc + in.Len + int(in.Args[0].(x86asm.Rel))})
		}
		if pc == 0 {
			if in.Op != x86asm.LEA {
				t.Fatalf("first instruction %v, want LEA", in)
			}
			disp := int(int32(binary.LittleEndian.Uint32(code[3:])))
			if codeOff+in.Len+disp != DataOff {
				t.Errorf("LEA points at %#x, want the data page %#x", codeOff+in.Len+disp, DataOff)
			}
		}
		pc += in.Len
	}
	for _, b := range branches {
		if !starts[b[1]] {
			t.Errorf("branch at %d targets %d, not an instruction start", b[0], b[1])
		}
	}
}

// TestRunOnHost runs the code: monotonic and realtime from the data page,
// and the system call for other clocks.
func TestRunOnHost(t *testing.T) {
	mem, err := syscall.Mmap(-1, 0, Size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		testenv.Missing(t, "mmap of an executable page on the host: %v", err)
	}
	defer syscall.Munmap(mem)
	copy(mem, Build())
	le := binary.LittleEndian
	le.PutUint64(mem[DataTSCBase:], 0)
	le.PutUint64(mem[DataMult:], 1<<32) // 1 ns per tick: ns = TSC
	le.PutUint64(mem[DataWall:], uint64(1_700_000_000)*1e9)
	le.PutUint64(mem[DataMono:], 0)
	if err := syscall.Mprotect(mem[:DataOff], syscall.PROT_READ|syscall.PROT_EXEC); err != nil {
		testenv.Missing(t, "mprotect to PROT_EXEC on the host: %v", err)
	}
	fn := uintptr(unsafe.Pointer(&mem[codeOff]))
	var ts [2]int64
	p := uintptr(unsafe.Pointer(&ts[0]))
	if r := callClock(fn, 1, p); r != 0 || ts[1] < 0 || ts[1] >= 1e9 {
		t.Fatalf("CLOCK_MONOTONIC = %d, ts %v", r, ts)
	}
	a := ts
	callClock(fn, 1, p)
	if ts[0] < a[0] || ts[0] == a[0] && ts[1] < a[1] {
		t.Errorf("monotonic went back: %v then %v", a, ts)
	}
	callClock(fn, 0, p)
	if ts[0] < 1_700_000_000 {
		t.Errorf("CLOCK_REALTIME seconds %d, want >= the boot wall time", ts[0])
	}
	// CLOCK_PROCESS_CPUTIME_ID is not in the vDSO: the real system call.
	if r := callClock(fn, 2, p); r != 0 || ts[0] > int64(time.Hour) {
		t.Errorf("fallback clock_gettime(2) = %d, ts %v", int64(r), ts)
	}
}
