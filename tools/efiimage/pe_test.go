package efiimage

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/layout"
)

const linkBase = uint64(layout.KernBase) + layout.ImagePhys

// testSeg is one PT_LOAD segment of a synthetic kernel, at linkBase+off
// in memory and off in the file.
type testSeg struct {
	off, filesz, memsz uint64
	flags              elf.ProgFlag
}

// testKernel returns an ELF file shaped like a kernel tools/kbuild links:
// PT_LOAD segments from linkBase (the first including the ELF headers),
// and a symbol table naming the UEFI entry at entry. Segment bytes are a
// pattern of their file offset, so tests can tell where bytes came from.
func testKernel(segs []testSeg, entrySym string, entry uint64) []byte {
	le := binary.LittleEndian
	var fileEnd uint64
	for _, s := range segs {
		fileEnd = max(fileEnd, s.off+s.filesz)
	}
	img := make([]byte, fileEnd)
	for i := range img {
		img[i] = byte(i*7 + i>>12)
	}

	// .shstrtab, .strtab, .symtab after the segments.
	shstr := []byte("\x00.symtab\x00.strtab\x00.shstrtab\x00")
	str := append([]byte{0}, append([]byte(entrySym), 0)...)
	var sym bytes.Buffer
	binary.Write(&sym, le, elf.Sym64{})
	binary.Write(&sym, le, elf.Sym64{Name: 1, Info: byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC), Shndx: 1, Value: entry})
	symOff := uint64(len(img))
	img = append(img, sym.Bytes()...)
	strOff := uint64(len(img))
	img = append(img, str...)
	shstrOff := uint64(len(img))
	img = append(img, shstr...)
	for len(img)%8 != 0 {
		img = append(img, 0)
	}
	shOff := uint64(len(img))
	var sh bytes.Buffer
	binary.Write(&sh, le, elf.Section64{})
	binary.Write(&sh, le, elf.Section64{Name: 1, Type: uint32(elf.SHT_SYMTAB), Off: symOff, Size: uint64(sym.Len()), Link: 2, Info: 1, Addralign: 8, Entsize: 24})
	binary.Write(&sh, le, elf.Section64{Name: 9, Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint64(len(str)), Addralign: 1})
	binary.Write(&sh, le, elf.Section64{Name: 17, Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1})
	img = append(img, sh.Bytes()...)

	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: entry, Phoff: 64, Shoff: shOff, Ehsize: 64, Phentsize: 56, Phnum: uint16(len(segs)),
		Shentsize: 64, Shnum: 4, Shstrndx: 3,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var hb bytes.Buffer
	binary.Write(&hb, le, h)
	for _, s := range segs {
		binary.Write(&hb, le, elf.Prog64{
			Type: uint32(elf.PT_LOAD), Flags: uint32(s.flags), Off: s.off,
			Vaddr: linkBase + s.off, Paddr: layout.ImagePhys + s.off,
			Filesz: s.filesz, Memsz: s.memsz, Align: 0x1000,
		})
	}
	copy(img, hb.Bytes())
	return img
}

// kernelSegs is the shape of a real kernel: text from the ELF header on,
// rodata, and data with a large bss.
var kernelSegs = []testSeg{
	{0, 0x3321, 0x3321, elf.PF_R | elf.PF_X},
	{0x4000, 0x1800, 0x1800, elf.PF_R},
	{0x6000, 0x900, 0x25000, elf.PF_R | elf.PF_W},
}

const kernelEntry = linkBase + 0x1230

func defaultKernel() []byte { return testKernel(kernelSegs, EntrySymbol+".abi0", kernelEntry) }

func TestBuild(t *testing.T) {
	kernel := defaultKernel()
	img, err := Build(kernel, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	f, err := pe.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("pe.NewFile(Build(kernel)): %v", err)
	}
	oh := f.OptionalHeader.(*pe.OptionalHeader64)
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || oh.Magic != 0x20b || oh.Subsystem != pe.IMAGE_SUBSYSTEM_EFI_APPLICATION {
		t.Errorf("machine %#x magic %#x subsystem %d, want an x86-64 PE32+ EFI application", f.Machine, oh.Magic, oh.Subsystem)
	}
	if f.TimeDateStamp != 0 || oh.CheckSum != 0 {
		t.Errorf("TimeDateStamp %#x CheckSum %#x, want 0: the output must not depend on when it was built", f.TimeDateStamp, oh.CheckSum)
	}
	if oh.SectionAlignment != 0x1000 || oh.FileAlignment != 0x200 || oh.SizeOfHeaders%oh.FileAlignment != 0 {
		t.Errorf("alignment section %#x file %#x headers %#x", oh.SectionAlignment, oh.FileAlignment, oh.SizeOfHeaders)
	}
	if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 || f.Characteristics&pe.IMAGE_FILE_RELOCS_STRIPPED != 0 {
		t.Errorf("characteristics %#x: want an executable image that may be relocated", f.Characteristics)
	}
	if oh.ImageBase != layout.ImagePhys || oh.AddressOfEntryPoint != uint32(kernelEntry-linkBase) {
		t.Errorf("base %#x entry %#x, want %#x and %#x", oh.ImageBase, oh.AddressOfEntryPoint, layout.ImagePhys, kernelEntry-linkBase)
	}

	want := []struct {
		name       string
		rva, vsize uint32
		chars      uint32
		from       uint64 // file offset in the ELF
		n          uint64
	}{
		{SecText, 0x1000, 0x3000, pe.IMAGE_SCN_CNT_CODE | pe.IMAGE_SCN_MEM_EXECUTE | pe.IMAGE_SCN_MEM_READ, 0x1000, 0x2321},
		{SecRodata, 0x4000, 0x2000, pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ, 0x4000, 0x1800},
		{SecData, 0x6000, 0x25000, pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ | pe.IMAGE_SCN_MEM_WRITE, 0x6000, 0x900},
		{SecReloc, 0x2b000, 12, pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ | pe.IMAGE_SCN_MEM_DISCARDABLE, 0, 0},
	}
	if len(f.Sections) != len(want) {
		t.Fatalf("%d sections, want %d", len(f.Sections), len(want))
	}
	for i, w := range want {
		s := f.Sections[i]
		if s.Name != w.name || s.VirtualAddress != w.rva || s.VirtualSize != w.vsize || s.Characteristics != w.chars {
			t.Errorf("section %d = %s RVA %#x size %#x flags %#x, want %s %#x %#x %#x",
				i, s.Name, s.VirtualAddress, s.VirtualSize, s.Characteristics, w.name, w.rva, w.vsize, w.chars)
		}
		if s.Offset%oh.FileAlignment != 0 || s.Size%oh.FileAlignment != 0 {
			t.Errorf("section %s at file offset %#x size %#x: not file-aligned", s.Name, s.Offset, s.Size)
		}
		if w.n > 0 {
			data, _ := s.Data()
			if !bytes.Equal(data[:w.n], kernel[w.from:w.from+w.n]) || !allZero(data[w.n:]) {
				t.Errorf("section %s does not hold the ELF bytes from %#x", s.Name, w.from)
			}
		}
	}
	if oh.SizeOfImage != 0x2c000 {
		t.Errorf("SizeOfImage %#x, want 0x2c000", oh.SizeOfImage)
	}
	if d := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_BASERELOC]; d.VirtualAddress != 0x2b000 || d.Size != 12 {
		t.Errorf("base relocation directory %+v, want the .reloc section", d)
	}
	if oh.SizeOfCode != 0x2400 || oh.SizeOfUninitializedData != 0x25000-0x900 {
		t.Errorf("SizeOfCode %#x SizeOfUninitializedData %#x", oh.SizeOfCode, oh.SizeOfUninitializedData)
	}

	// The Linux boot-protocol header QEMU's -kernel reads.
	le := binary.LittleEndian
	if string(img[0x202:0x206]) != "HdrS" || le.Uint16(img[0x206:]) < 0x206 || le.Uint16(img[0x1fe:]) != 0xaa55 {
		t.Errorf("no Linux setup header: % x", img[0x1f1:0x240])
	}
	if setup := (int(img[0x1f1]) + 1) * 512; setup != int(oh.SizeOfHeaders) {
		t.Errorf("setup part %#x bytes, want the PE headers (%#x)", setup, oh.SizeOfHeaders)
	}
	if img[0x211]&1 == 0 || le.Uint32(img[0x238:]) < 255 {
		t.Errorf("loadflags %#x cmdline_size %d", img[0x211], le.Uint32(img[0x238:]))
	}
	if pe := le.Uint32(img[0x3c:]); pe < 0x26c {
		t.Errorf("PE header at %#x overlaps the setup header boot loaders patch", pe)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func TestBuildEmbedded(t *testing.T) {
	initrd := bytes.Repeat([]byte("070701"), 1000)
	img, err := Build(defaultKernel(), Options{Initrd: initrd, Cmdline: "one two K=v"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	info, err := Inspect(img)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	in, ok := info.Section(SecInitrd)
	if !ok || in.RVA != 0x2b000 || in.VirtualSize != uint32(len(initrd)) || in.SHA256 != sha256.Sum256(initrd) {
		t.Errorf(".initrd = %+v, %v; want the archive after the kernel's bss", in, ok)
	}
	if info.Cmdline != "one two K=v" {
		t.Errorf("Cmdline = %q", info.Cmdline)
	}
	cl, _ := info.Section(SecCmdline)
	rl, _ := info.Section(SecReloc)
	if cl.RVA != 0x2b000+0x2000 || rl.RVA != cl.RVA+0x1000 || info.SizeOfImage != rl.RVA+0x1000 {
		t.Errorf("sections %+v, size %#x", info.Sections, info.SizeOfImage)
	}
}

func TestBuildReproducible(t *testing.T) {
	o := Options{Initrd: []byte("archive"), Cmdline: "x"}
	a, err := Build(defaultKernel(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Build(defaultKernel(), o)
	if !bytes.Equal(a, b) {
		t.Error("two builds of the same kernel differ")
	}
}

func TestBuildErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		kernel []byte
		want   string
	}{
		"not ELF":   {[]byte("MZ not an elf"), "kernel:"},
		"no entry":  {testKernel(kernelSegs, "main.main", kernelEntry), "no UEFI entry"},
		"bad entry": {testKernel(kernelSegs, EntrySymbol, linkBase+0x80000), "outside the image"},
		"below base": {func() []byte {
			k := testKernel(kernelSegs, EntrySymbol, kernelEntry)
			// Move the first segment's vaddr below the link base.
			binary.LittleEndian.PutUint64(k[64+16:], linkBase-0x1000)
			return k
		}(), "outside the kernel"},
		"unaligned": {testKernel([]testSeg{{0, 0x2000, 0x2000, elf.PF_X}, {0x2800, 0x100, 0x100, elf.PF_R}},
			EntrySymbol, linkBase+0x1000), "not page-aligned"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Build(tt.kernel, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestInspectReport(t *testing.T) {
	img, err := Build(defaultKernel(), Options{Cmdline: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	if info.BootProtocol != bootProtocol || info.Entry != 0x1230 || info.ImageBase != layout.ImagePhys {
		t.Errorf("Inspect = %+v", info)
	}
	var b strings.Builder
	info.Write(&b, "k.efi")
	for _, want := range []string{"k.efi: UEFI application", "entry RVA 0x1230", "Linux boot protocol 2.06", ".text", "r-x", ".data", "rw-", `"hi"`, "payload: none inside"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if _, err := Inspect(defaultKernel()); err == nil {
		t.Error("Inspect(an ELF file) succeeded")
	}
}

func FuzzInspect(f *testing.F) {
	img, err := Build(defaultKernel(), Options{Initrd: []byte("a"), Cmdline: "b"})
	if err != nil {
		f.Fatal(err)
	}
	// With overlay the input replaces the start of a whole image (its
	// headers and section table) and the rest comes from the image: the
	// fuzzer mutates a few hundred bytes instead of the 21 KiB image,
	// whose every interesting variant took the whole minimization time.
	f.Add(img[:0x400], true)
	f.Add(img[:0x1000], false)
	f.Add([]byte("MZ"), false)
	f.Fuzz(func(t *testing.T, in []byte, overlay bool) {
		b := in
		if overlay && len(in) < len(img) {
			b = append(append(make([]byte, 0, len(img)), in...), img[len(in):]...)
		}
		info, err := Inspect(b)
		if err != nil {
			return
		}
		var out bytes.Buffer
		info.Write(&out, "fuzz")
		for _, s := range info.Sections {
			if s.FileSize > uint32(len(b)) && s.VirtualSize > uint32(len(b)) {
				t.Errorf("section %q claims %d bytes from a %d-byte file", s.Name, s.FileSize, len(b))
			}
		}
	})
}

// TestBuildRefusesPVHOnly checks that a kernel linked at
// layout.PVHImagePhys (kbuild's PVHOnly) is refused with what to do: the
// UEFI entry copies the kernel to layout.ImagePhys.
func TestBuildRefusesPVHOnly(t *testing.T) {
	const delta = layout.ImagePhys - layout.PVHImagePhys
	img := testKernel(kernelSegs, EntrySymbol+".abi0", kernelEntry-delta)
	le := binary.LittleEndian
	for i := range kernelSegs {
		ph := img[64+56*i:]
		le.PutUint64(ph[16:], le.Uint64(ph[16:])-delta) // p_vaddr
		le.PutUint64(ph[24:], le.Uint64(ph[24:])-delta) // p_paddr
	}
	_, err := Build(img, Options{})
	if err == nil || !strings.Contains(err.Error(), "PVH-only") || !strings.Contains(err.Error(), "--format efi") {
		t.Errorf("Build(a PVH-only kernel) = %v, want a refusal naming PVH-only and --format efi", err)
	}
}
