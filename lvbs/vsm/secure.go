package vsm

import (
	"fmt"
	"io"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Hypervisor is the part of hv.Client the services use.
type Hypervisor interface {
	ModifyVtlProtectionMask(vtl uint8, flags hv.MapFlags, pfn uint64, n int) error
	GetVpRegisters(vtl hv.InputVTL, names []hv.RegisterName, values []hv.RegisterValue) error
	SetVpRegisters(vtl hv.InputVTL, regs []hv.Assoc) error
}

// Memory is VTL1's access to guest physical memory. VTL0's protections do
// not bind VTL1 (TLFS VSM, "Memory Access Protections": a VTL cannot set
// protections for itself), so the services check every VTL0 address
// themselves before using it.
type Memory interface {
	ReadPhys(gpa uint64, p []byte) error
	WritePhys(gpa uint64, p []byte) error
}

// Config is what the services need.
type Config struct {
	HV  Hypervisor
	Mem Memory
	// Log is VTL1's view of the log ring pages, which lie at LogGPA in
	// the secure kernel's range.
	Log    []byte
	LogGPA uint64
	// App is the application channel; nil fails application calls with
	// ENODEV.
	App *Channel
	// Console, if set, receives a copy of every log record.
	Console io.Writer
}

// Limits on what VTL0 may ask.
const (
	// MaxProtectedPages bounds the pages Cocoon keeps protections for
	// (4 GiB of VTL0 memory), so VTL0 cannot exhaust secure memory.
	MaxProtectedPages = 1 << 20
	// MaxHekiRanges bounds one PROTECT_MEMORY list.
	MaxHekiRanges = 1 << 16
)

// Secure is the secure kernel's state for VTL0.
type Secure struct {
	cfg       Config
	boot      vtlcall.BootArgs
	log       *LogRing
	endOfBoot bool
	// prot holds VTL0's access to each page Cocoon restricted, by page
	// number; pages not in it have the default, full access.
	prot map[uint64]hv.MapFlags
	// pins holds pinned registers; control the intercepts installed.
	pins    map[hv.RegisterName]pin
	control hv.CrInterceptControl
}

type pin struct{ mask, value uint64 }

// Boot starts the services for the boot call's arguments (vtlcall.Boot):
// it validates them, configures VSM for the partition (TLFS VSM,
// "Partition Configuration": EnableVtlProtection with full default access
// for VTL0, as mshv_vsm_configure_partition; "Configuring Lower VTLs":
// MBEC for VTL0, as mshv_vsm_set_secure_config_vtl0), takes every page of
// the secure kernel's range from VTL0 except the log ring, which VTL0 may
// read, and writes the first log records.
func Boot(cfg Config, args vtlcall.BootArgs) (*Secure, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	logEnd := cfg.LogGPA + uint64(len(cfg.Log))
	if cfg.LogGPA%hv.PageSize != 0 || cfg.LogGPA < args.Start || logEnd > args.End || logEnd <= cfg.LogGPA {
		return nil, fmt.Errorf("vsm: log ring %#x+%d is not whole pages inside the secure kernel %#x-%#x", cfg.LogGPA, len(cfg.Log), args.Start, args.End)
	}
	log, err := NewLogRing(cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &Secure{cfg: cfg, boot: args, log: log, prot: make(map[uint64]hv.MapFlags), pins: make(map[hv.RegisterName]pin)}
	regs := []hv.Assoc{
		{Name: hv.RegVsmPartitionConfig, Value: hv.RegisterValue{Low: uint64(hv.MakePartitionConfig(true, hv.MapAll, false, false, false))}},
		{Name: hv.RegVsmVpSecureConfigVtl0, Value: hv.RegisterValue{Low: uint64(hv.SecureMbecEnabled)}},
	}
	if err := cfg.HV.SetVpRegisters(hv.CurrentVTL, regs); err != nil {
		return nil, fmt.Errorf("vsm: configuring VSM: %w", err)
	}
	for _, r := range []struct {
		from, to uint64
		flags    hv.MapFlags
	}{
		{args.Start, cfg.LogGPA, hv.MapNone},
		{cfg.LogGPA, logEnd, hv.MapRead},
		{logEnd, args.End, hv.MapNone},
	} {
		if r.to > r.from {
			if err := cfg.HV.ModifyVtlProtectionMask(0, r.flags, r.from/hv.PageSize, int((r.to-r.from)/hv.PageSize)); err != nil {
				return nil, fmt.Errorf("vsm: protecting the secure kernel from VTL0: %w", err)
			}
		}
	}
	s.Logf("cocoon vtl1: secure kernel %#x-%#x, VTL0 RAM below %#x, %d CPUs", args.Start, args.End, args.MaxPhys, args.CPUs)
	if args.CPUs > 1 {
		s.Logf("cocoon vtl1: VTL1 runs on the boot CPU only; the other %d CPUs stay parked (no SMP yet)", args.CPUs-1)
	}
	s.Logf("cocoon vtl1: log ring at %#x, %d bytes, read-only for VTL0", cfg.LogGPA, len(cfg.Log))
	return s, nil
}

// Logf appends a record to the log ring (and the console).
func (s *Secure) Logf(format string, args ...any) {
	s.log.Printf(format, args...)
	if s.cfg.Console != nil {
		fmt.Fprintf(s.cfg.Console, format+"\n", args...)
	}
}

// Log returns the log ring's bytes as VTL0 would read them.
func (s *Secure) Log() []byte {
	b, _ := ReadLog(s.cfg.Log)
	return b
}

// Call serves one VTL call: it returns the registers' new contents, the
// status in A3 (vtlcall.Status).
func (s *Secure) Call(a vtlcall.Args) vtlcall.Args {
	out := a
	errno := s.dispatch(&out)
	if errno != 0 {
		s.Logf("cocoon vtl1: %s (a1=%#x a2=%#x a3=%#x) failed: errno %d", vtlcall.Name(a.A0), a.A1, a.A2, a.A3, errno)
	}
	out.A3 = vtlcall.Status(errno)
	return out
}

func (s *Secure) dispatch(a *vtlcall.Args) int {
	boot := func(f func() int) int {
		if s.endOfBoot {
			return vtlcall.EINVAL // as mshv_vsm_handle_entry after SIGNAL_END_OF_BOOT
		}
		return f()
	}
	switch id := a.A0; {
	case id == vtlcall.FuncEnableAPsVtl:
		return boot(func() int { return s.cpuMask(a.A1, "enable") })
	case id == vtlcall.FuncBootAPs:
		return boot(func() int { return s.cpuMask(a.A1, "boot") })
	case id == vtlcall.FuncLockRegs:
		return boot(s.lockRegs)
	case id == vtlcall.FuncEndOfBoot:
		s.endOfBoot = true
		s.Logf("cocoon vtl1: VTL0 signalled end of boot: protections are final")
		return 0
	case id == vtlcall.FuncProtectMemory:
		return boot(func() int { return s.protectHeki(a.A1, a.A2) })
	case id == vtlcall.FuncProtectPages:
		return boot(func() int { return s.protectPages(a.A1, a.A2, a.A3) })
	case id == vtlcall.FuncPinRegister:
		return boot(func() int { return s.pinRegister(a.A1, a.A2) })
	case id == vtlcall.FuncLogInfo:
		a.A1, a.A2 = s.cfg.LogGPA, uint64(len(s.cfg.Log))
		return 0
	case id == vtlcall.FuncLoadKData || id == vtlcall.FuncValidateModule:
		return vtlcall.EOPNOTSUPP
	case id >= vtlcall.AppFirst && id <= vtlcall.AppLast:
		return s.appCall(a)
	}
	return vtlcall.EINVAL
}

// cpuMask answers ENABLE_APS_VTL and BOOT_APS: a1 is the page number of a
// Linux cpumask (bit n: CPU n). Only CPU 0, the boot CPU VTL1 already
// runs on, is served; any other CPU stays parked and the call says so.
func (s *Secure) cpuMask(pfn uint64, what string) int {
	if pfn > (1<<52)/hv.PageSize {
		return vtlcall.EINVAL
	}
	var b [8]byte
	if errno := s.readVTL0(pfn*hv.PageSize, b[:]); errno != 0 {
		return errno
	}
	mask := le64(b[:])
	if mask&1 == 0 {
		return vtlcall.EINVAL
	}
	if rest := mask &^ 1; rest != 0 {
		s.Logf("cocoon vtl1: VTL0 asks to %s VTL1 on CPUs %#x: they stay parked, VTL1 runs on CPU 0 only (no SMP yet)", what, rest)
		return vtlcall.EOPNOTSUPP
	}
	return 0
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// vtl0Range checks that [gpa, gpa+n) is VTL0 RAM: below the end of RAM
// the boot call reported and clear of the secure kernel.
func (s *Secure) vtl0Range(gpa, n uint64) int {
	end := gpa + n
	switch {
	case n == 0 || end < gpa || end > s.boot.MaxPhys:
		return vtlcall.EFAULT
	case gpa < s.boot.End && end > s.boot.Start:
		return vtlcall.EFAULT
	}
	return 0
}

func (s *Secure) readVTL0(gpa uint64, p []byte) int {
	if errno := s.vtl0Range(gpa, uint64(len(p))); errno != 0 {
		return errno
	}
	if err := s.cfg.Mem.ReadPhys(gpa, p); err != nil {
		return vtlcall.EFAULT
	}
	return 0
}

// writeVTL0 writes for VTL0 only where VTL0 itself may write: Cocoon is
// not a deputy that writes through VTL0's own protections.
func (s *Secure) writeVTL0(gpa uint64, p []byte) int {
	if errno := s.vtl0Range(gpa, uint64(len(p))); errno != 0 {
		return errno
	}
	for pfn := gpa / hv.PageSize; pfn <= (gpa+uint64(len(p))-1)/hv.PageSize; pfn++ {
		if f, ok := s.prot[pfn]; ok && f&hv.MapWrite == 0 {
			return vtlcall.EFAULT
		}
	}
	if err := s.cfg.Mem.WritePhys(gpa, p); err != nil {
		return vtlcall.EFAULT
	}
	return 0
}

// appCall delivers an application call: a1 request GPA, a2 its length,
// a3 the reply buffer's GPA (MaxAppData bytes). Out: a1 the reply length;
// the status is the application's.
func (s *Secure) appCall(a *vtlcall.Args) int {
	if s.cfg.App == nil {
		return vtlcall.ENODEV
	}
	if a.A2 > MaxAppData {
		return vtlcall.E2BIG
	}
	req := make([]byte, a.A2)
	if len(req) > 0 {
		if errno := s.readVTL0(a.A1, req); errno != 0 {
			return errno
		}
	}
	if errno := s.vtl0Range(a.A3, MaxAppData); errno != 0 {
		return errno
	}
	status, reply, errno := s.cfg.App.Call(uint32(a.A0-vtlcall.AppFirst), req)
	if errno != 0 {
		return errno
	}
	if len(reply) > 0 {
		if errno := s.writeVTL0(a.A3, reply); errno != 0 {
			return errno
		}
	}
	a.A1 = uint64(len(reply))
	return int(-status)
}
