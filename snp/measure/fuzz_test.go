package measure

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzMeasuredPages bounds the metadata a fuzzed image may declare
// before the fuzz target also measures it: a section may legitimately span
// up to 4 GiB, which is correct but too slow to measure on every input.
const maxFuzzMeasuredPages = 1 << 12

// FuzzParseOVMF feeds corrupted firmware images to the metadata parser and,
// when they parse, to Measure: both must return errors, never panic, and
// never allocate more than the input warrants.
func FuzzParseOVMF(f *testing.F) {
	f.Add(syntheticAmdSev(PageSize))
	f.Add(buildOVMF(PageSize, amdSevEntries, nil))
	f.Add(buildOVMF(PageSize, nil, []MetadataSection{{0x800000, 0x1000, SectionSNPKernelHashes}}))
	for _, name := range []string{"ovmf_AmdSev_suffix.bin", "ovmf_OvmfX64_suffix.bin"} {
		b, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip("inputs above 64 KiB add nothing the parser has not seen")
		}
		// Take the input as it is, and as the tail of an image padded at
		// the front to whole pages, so that most inputs reach the footer
		// table instead of failing the size check.
		ParseOVMF(data)
		image := make([]byte, (len(data)+PageSize-1)/PageSize*PageSize+PageSize)
		copy(image[len(image)-len(data):], data)
		fw, err := ParseOVMF(image)
		if err != nil {
			return
		}
		pages := uint64(0)
		for _, s := range fw.Sections {
			pages += uint64(s.Size) / PageSize
		}
		if pages > maxFuzzMeasuredPages {
			return
		}
		// The firmware pages are plain hashing, not parsing: seed the
		// digest instead of hashing them on every input.
		var seed Digest
		for _, vmm := range []VMM{VMMQEMU, VMMEC2} {
			Measure(fw, Options{VCPUs: 2, VCPUSignature: 0x800f12, GuestFeatures: 1, VMM: vmm,
				KernelHashes: NewKernelHashes(nil, nil, ""), FirmwareDigest: &seed})
		}
		Measure(fw, Options{VCPUs: 1, GuestFeatures: 1, VMM: VMMGCE, FirmwareDigest: &seed})
	})
}
