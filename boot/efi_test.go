package boot

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cocoon-vm/cocoon/kernel"
)

// memoryMap encodes UEFI memory descriptors (type, base, pages) with
// EDK2's descriptor size of 48 bytes.
func memoryMap(descs ...[3]uint64) []byte {
	const size = 48
	b := make([]byte, len(descs)*size)
	for i, d := range descs {
		e := b[i*size:]
		binary.LittleEndian.PutUint32(e[mdType:], uint32(d[0]))
		binary.LittleEndian.PutUint64(e[mdPhysStart:], d[1])
		binary.LittleEndian.PutUint64(e[16:], 0xdead) // VirtualStart: ignored
		binary.LittleEndian.PutUint64(e[mdNumPages:], d[2])
		binary.LittleEndian.PutUint64(e[32:], 0xf) // Attribute
	}
	return b
}

// ovmfMap is the start of OVMF's map under QEMU 7.2 (q35, 256 MiB, S3
// off) after ExitBootServices, as its "memmap" command shows it.
var ovmfMap = memoryMap(
	[3]uint64{memConventional, 0, 0xa0},
	[3]uint64{memConventional, 0x100000, 0x706},
	[3]uint64{memBootServicesData, 0x806000, 1},
	[3]uint64{memConventional, 0x807000, 0x19},
	[3]uint64{memBootServicesData, 0x820000, 0xce0},
	[3]uint64{memConventional, 0x1500000, 0xa6fd},
	[3]uint64{memLoaderCode, 0xbbfd000, 0x20},
	[3]uint64{memRuntimeServicesData, 0xbc1d000, 0x100},
	[3]uint64{memBootServicesCode, 0xbd1d000, 0x100},
	[3]uint64{memACPIReclaim, 0xf76c000, 0x12},
	[3]uint64{memACPINVS, 0xf77e000, 0x80},
	[3]uint64{memReserved, 0xb0000000, 0x10000},
	[3]uint64{memMMIO, 0xffc00000, 0x400},
)

func TestConvertMemoryMap(t *testing.T) {
	var info kernel.BootInfo
	convertMemoryMap(ovmfMap, 48, &info)
	want := []kernel.MemRegion{
		{Base: 0, Size: 0xa0000, Type: e820RAM},
		{Base: 0x100000, Size: 0xbc1d000 - 0x100000, Type: e820RAM},
		{Base: 0xbd1d000, Size: 0x100000, Type: e820RAM},
		{Base: 0xbc1d000, Size: 0x100000, Type: e820Reserved},
		{Base: 0xf76c000, Size: 0x12000, Type: e820ACPI},
		{Base: 0xf77e000, Size: 0x80000, Type: e820NVS},
		{Base: 0xb0000000, Size: 0x10000000, Type: e820Reserved},
		{Base: 0xffc00000, Size: 0x400000, Type: e820Reserved},
	}
	got := info.Mem[:info.NMem]
	if len(got) != len(want) {
		t.Fatalf("convertMemoryMap(OVMF map) = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("region %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A map with more regions than BootInfo holds keeps all of its RAM.
func TestConvertMemoryMapOverflow(t *testing.T) {
	var descs [][3]uint64
	for i := uint64(0); i < 100; i++ {
		descs = append(descs, [3]uint64{memReserved, 0x100000000 + i*0x2000, 1})
		descs = append(descs, [3]uint64{memConventional, 0x100000000 + i*0x2000 + 0x1000, 1})
	}
	var info kernel.BootInfo
	convertMemoryMap(memoryMap(descs...), 48, &info)
	if info.NMem != len(info.Mem) {
		t.Fatalf("NMem = %d, want %d", info.NMem, len(info.Mem))
	}
	ram := 0
	for _, r := range info.Mem[:info.NMem] {
		if r.Type == e820RAM {
			ram++
		}
	}
	if ram != len(info.Mem) {
		t.Errorf("%d of %d regions are RAM, want all (100 separate RAM pages)", ram, info.NMem)
	}
	// A descriptor size below the structure's is refused outright.
	convertMemoryMap(ovmfMap, 16, &info)
	if info.NMem != 0 {
		t.Errorf("convertMemoryMap with descriptor size 16: NMem = %d, want 0", info.NMem)
	}
}

func TestE820Type(t *testing.T) {
	for efi, want := range map[uint32]uint32{
		memReserved: e820Reserved, memLoaderCode: e820RAM, memLoaderData: e820RAM,
		memBootServicesCode: e820RAM, memBootServicesData: e820RAM,
		memRuntimeServicesCode: e820Reserved, memRuntimeServicesData: e820Reserved,
		memConventional: e820RAM, memUnusable: e820Unusable, memACPIReclaim: e820ACPI,
		memACPINVS: e820NVS, memMMIO: e820Reserved, memMMIOPortSpace: e820Reserved,
		memPalCode: e820Reserved, memPersistent: e820Persistent, memUnaccepted: e820Reserved,
		99: e820Reserved,
	} {
		if got := e820Type(efi); got != want {
			t.Errorf("e820Type(%d) = %d, want %d", efi, got, want)
		}
	}
}

func TestRangeIsRAM(t *testing.T) {
	for _, tt := range []struct {
		r       memRange
		bad     uint64
		wantRAM bool
	}{
		{memRange{0x200000, 0x2450000}, 0, true}, // spans four descriptors
		{memRange{0x100000, 0x1000}, 0, true},
		{memRange{0x9f000, 0x2000}, 0xa0000, false},      // runs into the hole
		{memRange{0xbc00000, 0x40000}, 0xbc1d000, false}, // runtime data
		{memRange{0xf770000, 0x1000}, 0xf770000, false},  // ACPI tables
	} {
		bad, ok := rangeIsRAM(ovmfMap, 48, tt.r)
		if ok != tt.wantRAM || !ok && bad != tt.bad {
			t.Errorf("rangeIsRAM(%#x+%#x) = %#x, %v; want %#x, %v", tt.r.base, tt.r.size, bad, ok, tt.bad, tt.wantRAM)
		}
	}
	// With S3 on, OVMF keeps ACPI NVS at 8 MiB, inside the kernel.
	s3 := memoryMap([3]uint64{memConventional, 0x100000, 0x706}, [3]uint64{memACPINVS, 0x806000, 2},
		[3]uint64{memConventional, 0x808000, 0x1000})
	if bad, ok := rangeIsRAM(s3, 48, memRange{0x200000, 0x2450000}); ok || bad != 0x806000 {
		t.Errorf("rangeIsRAM(S3 map) = %#x, %v; want 0x806000, false", bad, ok)
	}
}

func TestMemRangeOverlaps(t *testing.T) {
	a := memRange{0x1000, 0x1000}
	for _, tt := range []struct {
		b    memRange
		want bool
	}{
		{memRange{0x1fff, 1}, true},
		{memRange{0x2000, 1}, false},
		{memRange{0, 0x1000}, false},
		{memRange{0, 0x1001}, true},
		{memRange{0x1800, 0}, false},
	} {
		if got := a.overlaps(tt.b); got != tt.want {
			t.Errorf("%+v.overlaps(%+v) = %v, want %v", a, tt.b, got, tt.want)
		}
	}
}

func ucs2(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return append(b, 0, 0)
}

func TestLoadOptionsCmdline(t *testing.T) {
	guid := []byte{0x9a, 0x6d, 0x66, 0x8b, 0x5c, 0x9b, 0xe2, 0x4c, 0x8f, 0x9c, 0xbf, 0x4f, 0x7e, 0x98, 0x3c, 0x4e}
	for _, tt := range []struct {
		name string
		opts []byte
		want string
		ok   bool
	}{
		{"append", ucs2("one two GREETING=hi"), "one two GREETING=hi", true},
		{"OVMF initrd prefix", ucs2("initrd=initrd one two"), "one two", true},
		{"older OVMF initrd suffix", ucs2("one initrd=initrd"), "one", true},
		{"only initrd", ucs2("initrd=initrd"), "", false},
		{"similar word kept", ucs2("xinitrd=initrd initrd=initrdx"), "xinitrd=initrd initrd=initrdx", true},
		{"tabs become spaces", ucs2("a\tb"), "a b", true},
		{"boot manager GUID", guid, "", false},
		{"non-ASCII", ucs2("caf\u00e9"), "", false},
		{"odd length", []byte{'a', 0, 'b'}, "a", true},
		{"empty", nil, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]byte, 64)
			for i := range out {
				out[i] = 0xff
			}
			ok := loadOptionsCmdline(tt.opts, out)
			got := string(out[:strings.IndexByte(string(out), 0)])
			if ok != tt.ok || got != tt.want {
				t.Errorf("loadOptionsCmdline(%q) = %q, %v; want %q, %v", tt.opts, got, ok, tt.want, tt.ok)
			}
		})
	}
	// A command line longer than the buffer is cut, still terminated.
	out := make([]byte, 8)
	loadOptionsCmdline(ucs2("0123456789"), out)
	if string(out) != "0123456\x00" {
		t.Errorf("loadOptionsCmdline into 8 bytes = %q", out)
	}
}

func TestCopyCmdline(t *testing.T) {
	out := make([]byte, 8)
	copyCmdline([]byte("ab c\x00junk"), out)
	if string(out[:5]) != "ab c\x00" {
		t.Errorf("copyCmdline = %q", out)
	}
	copyCmdline([]byte("0123456789"), out)
	if string(out) != "0123456\x00" {
		t.Errorf("copyCmdline of a long line = %q", out)
	}
}

// peHeaders returns PE headers as tools/efiimage lays them out, with the
// given section names and (RVA, size) pairs.
func peHeaders(names []string, rvas, sizes []uint32) []byte {
	const peOff = 0x280
	h := make([]byte, 0x600)
	copy(h, "MZ")
	binary.LittleEndian.PutUint32(h[0x3c:], peOff)
	copy(h[peOff:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(h[peOff+6:], uint16(len(names)))
	binary.LittleEndian.PutUint16(h[peOff+20:], 240)
	for i, n := range names {
		s := h[peOff+24+240+40*i:]
		copy(s, n)
		binary.LittleEndian.PutUint32(s[8:], sizes[i])
		binary.LittleEndian.PutUint32(s[12:], rvas[i])
	}
	return h
}

func TestPESection(t *testing.T) {
	h := peHeaders([]string{".text", ".initrd", ".cmdline", ".initrdx"},
		[]uint32{0x1000, 0x2700000, 0x2900000, 0x2a00000}, []uint32{0x100, 0x1234, 9, 1})
	for _, tt := range []struct {
		name      string
		rva, size uint32
		ok        bool
	}{
		{secInitrd, 0x2700000, 0x1234, true},
		{secCmdline, 0x2900000, 9, true},
		{".text", 0x1000, 0x100, true},
		{".data", 0, 0, false},
		{".toolongname", 0, 0, false},
	} {
		rva, size, ok := peSection(h, tt.name)
		if rva != tt.rva || size != tt.size || ok != tt.ok {
			t.Errorf("peSection(%q) = %#x, %#x, %v; want %#x, %#x, %v", tt.name, rva, size, ok, tt.rva, tt.size, tt.ok)
		}
	}
	for name, bad := range map[string][]byte{
		"not MZ":             append([]byte("ZM"), h[2:]...),
		"short":              h[:0x30],
		"PE beyond":          func() []byte { b := append([]byte(nil), h...); b[0x3c] = 0xff; b[0x3d] = 0xff; return b }(),
		"sections truncated": h[:0x280+24+240+40],
	} {
		if _, _, ok := peSection(bad, secCmdline); ok {
			t.Errorf("peSection(%s headers) found a section", name)
		}
	}
}

// The GUIDs are written as bytes; check them against their string form.
func TestGUIDs(t *testing.T) {
	for s, b := range map[string][16]byte{
		"5b1b31a1-9562-11d2-8e3f-00a0c969723b": guidLoadedImage,
		"4006c0c1-fcb3-403e-996d-4a6c8724e06d": guidLoadFile2,
		"067b1f5f-cf26-44c5-8554-93d777912d42": guidSNPBlob,
		"5568e427-68fc-4f3d-ac74-ca555231cc68": [16]byte(efiInitrdPath[4:20]),
	} {
		if got := guidBytes(t, s); got != b {
			t.Errorf("GUID %s = % x, want % x", s, b, got)
		}
	}
	if l := binary.LittleEndian.Uint16(efiInitrdPath[2:]); l != 20 {
		t.Errorf("initrd media node length %d, want 20", l)
	}
}

// guidBytes encodes a GUID string as EFI_GUID in memory.
func guidBytes(t *testing.T, s string) [16]byte {
	t.Helper()
	var g [16]byte
	hex := strings.ReplaceAll(s, "-", "")
	if len(hex) != 32 {
		t.Fatalf("bad GUID %q", s)
	}
	var raw [16]byte
	for i := range raw {
		var v byte
		for _, c := range hex[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		raw[i] = v
	}
	// Data1 (4 bytes), Data2, Data3 little-endian; Data4 as is.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g
}

func TestHexStatus(t *testing.T) {
	var b [32]byte
	if got := string(hexStatus(0x800000000000000e, b[:])); got != "status 0x800000000000000e\r\n" {
		t.Errorf("hexStatus = %q", got)
	}
}
