package north

import (
	"strings"
	"testing"
)

// fakeCPUID answers from a table; leaves it lacks read as zeros.
type fakeCPUID map[[2]uint32][4]uint32

func (f fakeCPUID) cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	r := f[[2]uint32{leaf, sub}]
	return r[0], r[1], r[2], r[3]
}

// regs packs s, 16 bytes, as CPUID returns a brand string's part.
func regs(s string) [4]uint32 {
	var r [4]uint32
	for i := range 16 {
		r[i/4] |= uint32(s[i]) << (8 * (i % 4))
	}
	return r
}

// TestCPUInfo: /proc/cpuinfo from a made-up Intel CPU's CPUID: family
// and model with their extended fields, the brand string trimmed, the
// cache size the largest CPUID 4 cache, flags of each word in Linux's
// word order skipping the unnamed bits, bogomips twice the TSC's MHz.
func TestCPUInfo(t *testing.T) {
	f := fakeCPUID{
		{0, 0}: {0xd, 0x756e6547, 0x6c65746e, 0x49656e69}, // "GenuineIntel"
		// Family 6, extended model 9, model 0xe, stepping 0xa; EBX:
		// APIC ID 3, clflush 8 quadwords. ECX: sse3, osxsave (not
		// shown), hypervisor. EDX: fpu, bit 10 (reserved), sse2.
		{1, 0}:          {0x000906ea, 0x03000800, 1 | 1<<27 | 1<<31, 1 | 1<<10 | 1<<26},
		{4, 0}:          {0x121, 0x01c0003f, 63, 0},    // L1d: 8 ways, 64 B lines, 64 sets: 32 KB
		{4, 1}:          {0x163, 0x03c0003f, 12287, 0}, // L3: 16 ways, 12288 sets: 12288 KB
		{7, 0}:          {0, 1<<5 | 1<<29, 1 << 22, 0}, // avx2, sha_ni; rdpid
		{0xd, 1}:        {1, 0, 0, 0},                  // xsaveopt
		{0x80000000, 0}: {0x80000008, 0, 0, 0},
		{0x80000001, 0}: {0, 0, 1, 1<<11 | 1<<29}, // lahf_lm; syscall, lm
		{0x80000002, 0}: regs("  Test(R) CPU @ "),
		{0x80000003, 0}: regs("3.00GHz\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		{0x80000007, 0}: {0, 0, 0, 1<<8 | 1<<13},
		{0x80000008, 0}: {0x3027, 0, 0, 0},
	}
	got := CPUInfo(f.cpuid, 2_999_999_000)
	want := "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 158\n" +
		"model name\t: Test(R) CPU @ 3.00GHz\nstepping\t: 10\ncpu MHz\t\t: 2999.999\ncache size\t: 12288 KB\n" +
		"physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: 3\ninitial apicid\t: 3\n" +
		"fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\n" +
		"flags\t\t: fpu sse2 syscall lm pni hypervisor lahf_lm avx2 sha_ni xsaveopt rdpid\n" +
		"bogomips\t: 5999.99\nclflush size\t: 64\ncache_alignment\t: 64\n" +
		"address sizes\t: 39 bits physical, 48 bits virtual\npower management: [13]\n\n"
	if got != want {
		t.Errorf("cpuinfo:\n%s\nwant:\n%s", got, want)
	}
	// Without a known TSC frequency there is no cpu MHz nor bogomips.
	if got := CPUInfo(f.cpuid, 0); strings.Contains(got, "MHz") || strings.Contains(got, "bogomips") {
		t.Errorf("cpuinfo without the TSC's frequency:\n%s", got)
	}
}
