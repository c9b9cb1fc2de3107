package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

const (
	// DefaultStackSize is the initial stack mapping when
	// StackOptions.Size is zero: Linux's default RLIMIT_STACK, 8 MiB
	// (include/uapi/linux/resource.h _STK_LIM).
	DefaultStackSize = 8 << 20
	// DefaultStackGuard is the inaccessible reservation below the stack
	// when StackOptions.Guard is zero: Linux's stack_guard_gap, 256 pages
	// (mm/mmap.c).
	DefaultStackGuard = 256 * pageSize
	// stackAlign is the alignment of the initial RSP (System V AMD64 ABI,
	// 3.4.1 "Initial Stack and Register State": the stack pointer holds
	// the address of argc and is 16-byte aligned).
	stackAlign = 16
)

// ErrArgListTooLong is returned when argv, envp and the auxiliary vector
// need more than a quarter of the stack (Linux E2BIG: the argument pages
// may use at most RLIMIT_STACK/4, fs/exec.c get_arg_page).
var ErrArgListTooLong = errors.New("argument list too long")

// StackOptions describe the initial process stack.
type StackOptions struct {
	// Top is the exclusive end of the stack mapping, page aligned.
	Top uint64
	// Size is the size of the stack mapping; zero means
	// DefaultStackSize.
	Size uint64
	// Guard is the size of the inaccessible (PROT_NONE) mapping kept
	// below the stack; zero means DefaultStackGuard.
	Guard uint64
	// Expand, if not zero, maps only the pages the initial contents use
	// and Expand bytes below them, at most Size in all, and no guard:
	// Linux's setup_arg_pages (stack_expand, 128 KiB), whose stack then
	// grows on faults up to RLIMIT_STACK with its guard a gap kept free
	// (the caller's to grow). Stack.Low is then the bottom of what is
	// mapped.
	Expand uint64
	// Args and Env are the argument and environment strings; none may
	// contain a NUL byte.
	Args, Env []string
	// ExecFn is the executable's path for AT_EXECFN; empty means Args[0]
	// (or "" without arguments).
	ExecFn string
	// Platform, if not empty, is written for AT_PLATFORM ("x86_64" on
	// Linux).
	Platform string
	// Random is the 16 bytes AT_RANDOM points at (the Go runtime and libc
	// seed from them).
	Random [16]byte
	// HWCap is AT_HWCAP: on x86 the EDX of CPUID leaf 1
	// (arch/x86/include/asm/elf.h ELF_HWCAP).
	HWCap uint64
	// HWCap2 is AT_HWCAP2, which x86 Linux always gives (ELF_HWCAP2:
	// HWCAP2_RING3MWAIT, HWCAP2_FSGSBASE when the kernel enables them).
	HWCap2 uint64
	// SysinfoEhdr, if not zero, is the vDSO's address for
	// AT_SYSINFO_EHDR.
	SysinfoEhdr uint64
	// MinSigStkSz, if not zero, is AT_MINSIGSTKSZ, the signal frame size.
	MinSigStkSz uint64
	// UID, EUID, GID and EGID are the program's real and effective IDs
	// (AT_UID ... AT_EGID); Secure is AT_SECURE (libc's secure mode).
	UID, EUID, GID, EGID uint32
	Secure               bool
}

// RseqFeatureSize and RseqAlign are what AT_RSEQ_FEATURE_SIZE and
// AT_RSEQ_ALIGN tell: the bytes of struct rseq the kernel keeps up to
// date (cpu_id_start through mm_cid) and the alignment it requires of a
// registration longer than the original 32 bytes.
const (
	RseqFeatureSize = 28
	RseqAlign       = 32
)

// Aux is one auxiliary vector entry.
type Aux struct{ Type, Val uint64 }

// Stack describes an initial process stack as BuildStack wrote it.
type Stack struct {
	// SP is the initial RSP: the address of argc, 16-byte aligned.
	SP uint64
	// Low and Top bound the stack mapping (the guard lies below Low).
	Low, Top uint64
	// ArgStart..ArgEnd and EnvStart..EnvEnd hold the argument and
	// environment strings, NUL-separated (/proc/self/cmdline, environ).
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
	// Random is the address of the AT_RANDOM bytes; ExecFn of the
	// AT_EXECFN string.
	Random, ExecFn uint64
	// Auxv is the auxiliary vector, ending with AT_NULL
	// (/proc/self/auxv).
	Auxv []Aux
}

// AuxvBytes returns the auxiliary vector as /proc/PID/auxv reads it: each
// type and value as an 8-byte little-endian word, through AT_NULL.
func (s *Stack) AuxvBytes() []byte {
	b := make([]byte, 0, 16*len(s.Auxv))
	for _, a := range s.Auxv {
		b = binary.LittleEndian.AppendUint64(b, a.Type)
		b = binary.LittleEndian.AppendUint64(b, a.Val)
	}
	return b
}

// BuildStack maps the initial stack of img in as and fills it as Linux's
// create_elf_tables (fs/binfmt_elf.c) does. From the top down:
//
//	8 zero bytes (end marker)
//	AT_EXECFN string, environment strings, argument strings
//	(16-byte alignment)
//	AT_PLATFORM string, if any
//	16 AT_RANDOM bytes
//	(padding to make SP 16-byte aligned)
//	AT_NULL, ..., auxv pairs
//	NULL, envp[envc-1], ..., envp[0]
//	NULL, argv[argc-1], ..., argv[0]
//	argc                                 <- SP
//
// The strings sit in the order Linux copies them: argv[0] lowest.
func (img *Image) BuildStack(as mem.AddressSpace, o StackOptions) (*Stack, error) {
	size, guard := o.Size, o.Guard
	if size == 0 {
		size = DefaultStackSize
	}
	if guard == 0 {
		guard = DefaultStackGuard
	}
	if o.Top%pageSize != 0 || size%pageSize != 0 || guard%pageSize != 0 {
		return nil, fmt.Errorf("stack top %#x, size %#x and guard %#x must be page aligned", o.Top, size, guard)
	}
	if o.Top < MinAddr || o.Top-MinAddr < size+guard || size+guard < size {
		return nil, fmt.Errorf("stack of %#x bytes and %#x-byte guard do not fit below %#x", size, guard, o.Top)
	}
	for _, s := range append(append([]string{o.ExecFn, o.Platform}, o.Args...), o.Env...) {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("argument or environment string %q contains a NUL byte", s)
		}
	}
	execFn := o.ExecFn
	if execFn == "" && len(o.Args) > 0 {
		execFn = o.Args[0]
	}

	// Lay out the strings below the 8-byte end marker.
	strBytes := uint64(len(execFn) + 1)
	for _, s := range o.Args {
		strBytes += uint64(len(s) + 1)
	}
	for _, s := range o.Env {
		strBytes += uint64(len(s) + 1)
	}
	limit := size / 4
	if strBytes+uint64(len(o.Platform)+1) > limit {
		return nil, ErrArgListTooLong
	}
	st := &Stack{Low: o.Top - size, Top: o.Top}
	p := o.Top - 8 - strBytes
	st.ArgStart = p
	argv := make([]uint64, len(o.Args))
	for i, s := range o.Args {
		argv[i] = p
		p += uint64(len(s) + 1)
	}
	st.ArgEnd, st.EnvStart = p, p
	envp := make([]uint64, len(o.Env))
	for i, s := range o.Env {
		envp[i] = p
		p += uint64(len(s) + 1)
	}
	st.EnvEnd, st.ExecFn = p, p

	// Below the strings: platform string and random bytes
	// (create_elf_tables, after arch_align_stack).
	p = st.ArgStart &^ (stackAlign - 1)
	var platform uint64
	if o.Platform != "" {
		p -= uint64(len(o.Platform) + 1)
		platform = p
	}
	p -= uint64(len(o.Random))
	st.Random = p

	// The auxiliary vector, in create_elf_tables order: ARCH_DLINFO
	// (arch/x86/include/asm/elf.h) first, then the generic entries.
	var auxv []Aux
	add := func(t, v uint64) { auxv = append(auxv, Aux{t, v}) }
	if o.SysinfoEhdr != 0 {
		add(linux.AtSysinfoEhdr, o.SysinfoEhdr)
	}
	if o.MinSigStkSz != 0 {
		add(linux.AtMinsigstksz, o.MinSigStkSz)
	}
	add(linux.AtHwcap, o.HWCap)
	add(linux.AtPagesz, pageSize)
	add(linux.AtClktck, linux.AtClktckHz)
	add(linux.AtPhdr, img.Phdr)
	add(linux.AtPhent, PhdrSize)
	add(linux.AtPhnum, uint64(img.Phnum))
	add(linux.AtBase, 0) // no interpreter
	add(linux.AtFlags, 0)
	add(linux.AtEntry, img.Entry)
	add(linux.AtUID, uint64(o.UID))
	add(linux.AtEUID, uint64(o.EUID))
	add(linux.AtGID, uint64(o.GID))
	add(linux.AtEGID, uint64(o.EGID))
	secure := uint64(0)
	if o.Secure {
		secure = 1
	}
	add(linux.AtSecure, secure)
	add(linux.AtRandom, st.Random)
	add(linux.AtHwcap2, o.HWCap2)
	add(linux.AtExecfn, st.ExecFn)
	if platform != 0 {
		add(linux.AtPlatform, platform)
	}
	// struct rseq (include/uapi/linux/rseq.h): its fields end at 28
	// (offsetof(struct rseq, end)), aligned to 32.
	add(linux.AtRseqFeatureSize, RseqFeatureSize)
	add(linux.AtRseqAlign, RseqAlign)
	add(linux.AtNull, 0)
	st.Auxv = auxv

	// argc, argv[], NULL, envp[], NULL, then the auxv pairs; SP rounded
	// down to 16 bytes (STACK_ROUND in fs/binfmt_elf.c).
	words := uint64(1+len(argv)+1+len(envp)+1) + 2*uint64(len(auxv))
	st.SP = (p - words*8) &^ (stackAlign - 1)
	if o.Top-st.SP > limit {
		return nil, ErrArgListTooLong
	}

	// Build [SP, Top) in one buffer and copy it in with one Load.
	region := make([]byte, o.Top-st.SP)
	at := func(addr uint64) []byte { return region[addr-st.SP:] }
	w := st.SP
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(at(w), v)
		w += 8
	}
	put(uint64(len(argv)))
	for _, a := range argv {
		put(a)
	}
	put(0)
	for _, e := range envp {
		put(e)
	}
	put(0)
	for _, a := range auxv {
		put(a.Type)
		put(a.Val)
	}
	copy(at(st.Random), o.Random[:])
	if platform != 0 {
		copy(at(platform), o.Platform)
	}
	for i, s := range o.Args {
		copy(at(argv[i]), s)
	}
	for i, s := range o.Env {
		copy(at(envp[i]), s)
	}
	copy(at(st.ExecFn), execFn)

	prot := mem.Read | mem.Write
	if img.ExecStack {
		prot |= mem.Exec
	}
	if o.Expand != 0 {
		// The page of the lowest string, Expand below it; what the
		// tables below the strings need beyond it (setup_arg_pages
		// then create_elf_tables).
		low := (st.ArgStart &^ (pageSize - 1)) - min(o.Expand&^(pageSize-1), st.ArgStart&^(pageSize-1))
		st.Low = max(min(low, st.SP&^(pageSize-1)), st.Low)
		size = o.Top - st.Low
	} else if _, err := as.Map(st.Low-guard, guard, 0, true); err != nil {
		return nil, fmt.Errorf("mapping the stack guard: %w", err)
	}
	if _, err := as.Map(st.Low, size, prot, true); err != nil {
		return nil, fmt.Errorf("mapping the stack: %w", err)
	}
	if err := as.Load(st.SP, region); err != nil {
		return nil, fmt.Errorf("writing the initial stack: %w", err)
	}
	return st, nil
}
