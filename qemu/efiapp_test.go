package qemu

import (
	"bytes"
	"debug/pe"
	"testing"
)

func TestEFIApp(t *testing.T) {
	code := reportStatus(3)
	f, err := pe.NewFile(bytes.NewReader(efiApp(code)))
	if err != nil {
		t.Fatalf("pe.NewFile(efiApp): %v", err)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || oh.Subsystem != 10 || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Fatalf("efiApp headers = %+v %+v, want a PE32+ AMD64 EFI application", f.FileHeader, f.OptionalHeader)
	}
	data, err := f.Sections[0].Data()
	if err != nil || !bytes.HasPrefix(data, code) || f.Sections[0].VirtualAddress != oh.AddressOfEntryPoint {
		t.Errorf("efiApp section = % x (%v) at %#x, want the code at the entry %#x",
			data, err, f.Sections[0].VirtualAddress, oh.AddressOfEntryPoint)
	}
}
