package north

import (
	"fmt"
	"strings"
)

// CPUID is one CPUID query's answer: leaf and subleaf in, the four
// registers out.
type CPUID func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// cpuFlagWords are the CPUID registers whose bits /proc/cpuinfo names,
// in the order of Linux's capability words (arch/x86/include/asm/
// cpufeatures.h): word 0 CPUID 1 EDX, 1 0x80000001 EDX, 4 1 ECX, 6
// 0x80000001 ECX, 9 7.0 EBX, 10 0xD.1 EAX, 16 7.0 ECX. Each name is the
// bit's; "" is a bit Linux does not show or does not name. Linux's
// synthetic words (3, 7, 8, 11: what Linux's own kernel detected or
// chose, like constant_tsc or pti) are not Cocoon's to claim and are left
// out, as are the words it fills from further leaves.
var cpuFlagWords = []struct {
	leaf, sub uint32
	reg       int // 0 EAX, 1 EBX, 2 ECX, 3 EDX
	names     [32]string
}{
	{1, 0, 3, [32]string{"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge", "mca", "cmov",
		"pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe"}},
	{0x80000001, 0, 3, [32]string{11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt", 26: "pdpe1gb", 27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"}},
	{1, 0, 2, [32]string{"pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm",
		"", "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", "", "avx", "f16c", "rdrand", "hypervisor"}},
	{0x80000001, 0, 2, [32]string{"lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp",
		"fma4", "tce", "", "nodeid_msr", "", "tbm", "topoext", "perfctr_core", "perfctr_nb", "", "bpext", "ptsc", "perfctr_llc", "mwaitx"}},
	{7, 0, 1, [32]string{"fsgsbase", "tsc_adjust", "", "bmi1", "hle", "avx2", "", "smep", "bmi2", "erms", "invpcid", "rtm", "cqm", "", "mpx", "rdt_a",
		"avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "", "clflushopt", "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl"}},
	{0xd, 1, 0, [32]string{"xsaveopt", "xsavec", "xgetbv1", "xsaves"}},
	{7, 0, 2, [32]string{1: "avx512vbmi", 2: "umip", 3: "pku", 4: "ospke", 6: "avx512_vbmi2", 8: "gfni", 9: "vaes", 10: "vpclmulqdq", 11: "avx512_vnni",
		12: "avx512_bitalg", 13: "tme", 14: "avx512_vpopcntdq", 16: "la57", 22: "rdpid", 25: "cldemote", 27: "movdiri", 28: "movdir64b"}},
}

// powerFlags name the bits of CPUID 0x80000007 EDX, as Linux's
// x86_power_flags (arch/x86/kernel/cpu/powerflags.c); bit 8, the
// invariant TSC, has no name there.
var powerFlags = []string{"ts", "fid", "vid", "ttp", "tm", "stc", "100mhzsteps", "hwpstate", "", "cpb", "eff_freq_ro", "proc_feedback", "acc_power"}

// CPUInfo is /proc/cpuinfo for Cocoon's one CPU, as Linux's show_cpuinfo
// (arch/x86/kernel/cpu/proc.c) prints it, from what cpuid answers and
// the TSC's frequency in Hz (tscHz 0 when unknown: no cpu MHz nor
// bogomips). Lines Linux prints from state Cocoon does not have are left
// out as Linux leaves them out when it lacks them: microcode (the
// revision is an MSR the platform does not report), bugs (Linux's own
// vulnerability tables) and TLB size.
func CPUInfo(cpuid CPUID, tscHz uint64) string {
	maxLeaf, b, c, d := cpuid(0, 0)
	vendor := regString(b, d, c)
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	a1, b1, _, _ := cpuid(1, 0)
	family := a1 >> 8 & 0xf
	model := a1 >> 4 & 0xf
	if family == 0xf {
		family += a1 >> 20 & 0xff
	}
	if family >= 6 {
		model += (a1 >> 16 & 0xf) << 4
	}
	name := "unknown"
	if maxExt >= 0x80000004 {
		var s []byte
		for l := uint32(0x80000002); l <= 0x80000004; l++ {
			a, b, c, d := cpuid(l, 0)
			s = append(s, regString(a, b, c, d)...)
		}
		if n := strings.TrimSpace(strings.TrimRight(string(s), "\x00")); n != "" {
			name = n
		}
	}
	var w strings.Builder
	fmt.Fprintf(&w, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\nstepping\t: %d\n",
		vendor, family, model, name, a1&0xf)
	khz := tscHz / 1000
	if khz != 0 {
		fmt.Fprintf(&w, "cpu MHz\t\t: %d.%03d\n", khz/1000, khz%1000)
	}
	if kb := cacheSize(cpuid, vendor, maxLeaf, maxExt); kb != 0 {
		fmt.Fprintf(&w, "cache size\t: %d KB\n", kb)
	}
	apic := b1 >> 24
	fmt.Fprintf(&w, "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: %d\ninitial apicid\t: %d\n", apic, apic)
	fmt.Fprintf(&w, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %d\nwp\t\t: yes\nflags\t\t:", maxLeaf)
	for _, f := range cpuFlagWords {
		top := maxLeaf
		if f.leaf >= 0x80000000 {
			top = maxExt
		}
		if f.leaf > top {
			continue
		}
		a, b, c, d := cpuid(f.leaf, f.sub)
		reg := [4]uint32{a, b, c, d}[f.reg]
		for i, n := range f.names {
			if reg&(1<<i) != 0 && n != "" {
				w.WriteString(" " + n)
			}
		}
	}
	w.WriteString("\n")
	if khz != 0 {
		// loops_per_jiffy is the TSC's cycles per jiffy (lpj_fine):
		// bogomips = lpj/(500000/HZ), two decimals.
		fmt.Fprintf(&w, "bogomips\t: %d.%02d\n", khz/500, khz/5%100)
	}
	clflush := (b1 >> 8 & 0xff) * 8
	fmt.Fprintf(&w, "clflush size\t: %d\ncache_alignment\t: %d\n", clflush, clflush)
	if maxExt >= 0x80000008 {
		a, _, _, _ := cpuid(0x80000008, 0)
		fmt.Fprintf(&w, "address sizes\t: %d bits physical, %d bits virtual\n", a&0xff, a>>8&0xff)
	}
	w.WriteString("power management:")
	if maxExt >= 0x80000007 {
		_, _, _, d := cpuid(0x80000007, 0)
		for i := range 32 {
			switch {
			case d&(1<<i) == 0:
			case i < len(powerFlags) && powerFlags[i] != "":
				w.WriteString(" " + powerFlags[i])
			case i >= len(powerFlags):
				fmt.Fprintf(&w, " [%d]", i)
			}
		}
	}
	w.WriteString("\n\n")
	return w.String()
}

// cacheSize is Linux's x86_cache_size in KB: on Intel the largest cache
// CPUID 4 describes (the last level), elsewhere the L2 of CPUID
// 0x80000006 ECX[31:16]; 0 when unknown.
func cacheSize(cpuid CPUID, vendor string, maxLeaf, maxExt uint32) uint32 {
	if vendor == "GenuineIntel" && maxLeaf >= 4 {
		var best uint32
		for i := uint32(0); i < 16; i++ {
			a, b, c, _ := cpuid(4, i)
			if a&0x1f == 0 { // no more caches
				break
			}
			ways, parts, line, sets := b>>22+1, b>>12&0x3ff+1, b&0xfff+1, c+1
			best = max(best, ways*parts*line*sets/1024)
		}
		return best
	}
	if maxExt >= 0x80000006 {
		_, _, c, _ := cpuid(0x80000006, 0)
		return c >> 16
	}
	return 0
}

// regString is the bytes of registers in order, little-endian.
func regString(regs ...uint32) string {
	b := make([]byte, 0, 4*len(regs))
	for _, r := range regs {
		b = append(b, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return string(b)
}
