package vsm

import (
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Control register bits (Intel SDM vol. 3, 2.5 "Control Registers").
const (
	CR0PE   = 1 << 0
	CR0WP   = 1 << 16
	CR0PG   = 1 << 31
	CR4MCE  = 1 << 6
	CR4PGE  = 1 << 7
	CR4PCE  = 1 << 8
	CR4VMXE = 1 << 13
	CR4SMEP = 1 << 20
	CR4SMAP = 1 << 21
)

// What LOCK_REGS pins, as mshv_vsm_lock_regs: CR0.PE, WP, PG; every CR4
// bit except MCE, PGE, PCE and VMXE, which Linux changes at run time; and
// the system MSRs whole.
const (
	lockCR0Mask = CR0PE | CR0WP | CR0PG
	lockCR4Mask = ^uint64(CR4MCE | CR4PGE | CR4PCE | CR4VMXE)
)

var lockMSRs = []uint32{hv.MSRLstar, hv.MSRStar, hv.MSRCstar, hv.MSRApicBase, hv.MSREfer,
	hv.MSRSysenterCs, hv.MSRSysenterEsp, hv.MSRSysenterEip, hv.MSRSfmask}

// descriptorWrites are the intercepts LOCK_REGS installs whose writes are
// always refused: GDTR, IDTR, LDTR and TR.
const descriptorWrites = hv.InterceptGdtrWrite | hv.InterceptIdtrWrite | hv.InterceptLdtrWrite | hv.InterceptTrWrite

type pinReq struct {
	name hv.RegisterName
	bit  hv.CrInterceptControl
	mask uint64
}

// pinRegister is Cocoon's PIN_REGISTER: a1 names the register (the HV
// register name of CR0 or CR4, or an MSR number the intercept-control
// register can trap), a2 the bits to pin.
func (s *Secure) pinRegister(reg, mask uint64) int {
	if mask == 0 {
		return vtlcall.EINVAL
	}
	var p pinReq
	switch {
	case reg == uint64(hv.RegCR0):
		p = pinReq{hv.RegCR0, hv.InterceptCr0Write, mask}
	case reg == uint64(hv.RegCR4):
		p = pinReq{hv.RegCR4, hv.InterceptCr4Write, mask}
	default:
		if reg > 0xFFFF_FFFF {
			return vtlcall.EINVAL
		}
		name, bit, ok := hv.MSRRegister(uint32(reg))
		if !ok {
			return vtlcall.EINVAL
		}
		p = pinReq{name, bit, mask}
	}
	return s.pin([]pinReq{p}, 0)
}

// lockRegs is LVBS LOCK_REGS.
func (s *Secure) lockRegs() int {
	reqs := []pinReq{{hv.RegCR0, hv.InterceptCr0Write, lockCR0Mask}, {hv.RegCR4, hv.InterceptCr4Write, lockCR4Mask}}
	for _, m := range lockMSRs {
		name, bit, _ := hv.MSRRegister(m)
		reqs = append(reqs, pinReq{name, bit, ^uint64(0)})
	}
	return s.pin(reqs, descriptorWrites)
}

// pin reads the registers' current VTL0 values, then installs the
// intercepts (HvRegisterCrInterceptControl, and the CR0/CR4 mask registers
// so only writes to pinned bits trap: TLFS VSM, "Mask Registers") on
// VTL1's own instance, as mshv_vsm_lock_regs does. Pins only accumulate.
func (s *Secure) pin(reqs []pinReq, extra hv.CrInterceptControl) int {
	names := make([]hv.RegisterName, len(reqs))
	for i, r := range reqs {
		names[i] = r.name
	}
	values := make([]hv.RegisterValue, len(reqs))
	if err := s.cfg.HV.GetVpRegisters(hv.TargetVTL(0), names, values); err != nil {
		s.Logf("cocoon vtl1: reading VTL0 registers to pin: %v", err)
		return vtlcall.EIO
	}
	pins := make(map[hv.RegisterName]pin, len(s.pins)+len(reqs))
	for k, v := range s.pins {
		pins[k] = v
	}
	control := s.control | extra
	for i, r := range reqs {
		p := pins[r.name]
		// A bit already pinned keeps its pinned value; a new one takes
		// VTL0's current value.
		p.value = p.value&p.mask | values[i].Low&r.mask&^p.mask
		p.mask |= r.mask
		pins[r.name] = p
		control |= r.bit
	}
	regs := []hv.Assoc{{Name: hv.RegCrInterceptControl, Value: hv.RegisterValue{Low: uint64(control)}}}
	if p, ok := pins[hv.RegCR0]; ok {
		regs = append(regs, hv.Assoc{Name: hv.RegCrInterceptCr0Mask, Value: hv.RegisterValue{Low: p.mask}})
	}
	if p, ok := pins[hv.RegCR4]; ok {
		regs = append(regs, hv.Assoc{Name: hv.RegCrInterceptCr4Mask, Value: hv.RegisterValue{Low: p.mask}})
	}
	if err := s.cfg.HV.SetVpRegisters(hv.CurrentVTL, regs); err != nil {
		s.Logf("cocoon vtl1: installing register intercepts: %v", err)
		return vtlcall.EIO
	}
	s.pins, s.control = pins, control
	for _, r := range reqs {
		s.Logf("cocoon vtl1: VTL0 %v pinned: mask %#x value %#x", r.name, pins[r.name].mask, pins[r.name].value&pins[r.name].mask)
	}
	return 0
}

// Pinned reports a register's pinned mask and value.
func (s *Secure) Pinned(name hv.RegisterName) (mask, value uint64, ok bool) {
	p, ok := s.pins[name]
	return p.mask, p.value & p.mask, ok
}
