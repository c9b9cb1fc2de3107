package hv

import "fmt"

// Hypercaller issues one hypercall through the hypercall page (TLFS
// Hypercall Interface, "Establishing the Hypercall Interface": CALL to the
// page's start with the input value in RCX, the input GPA in RDX, the
// output GPA in R8; the result comes back in RAX).
type Hypercaller interface {
	Hypercall(c Control, inGPA, outGPA uint64) Result
}

// Page is one page of memory the hypervisor reads hypercall input from or
// writes output to: its guest physical address and the caller's view of
// it. TLFS "Alignment Requirements": input and output must not cross a
// page; a whole page each makes that hold for every list.
type Page struct {
	GPA uint64
	Mem []byte // PageSize bytes
}

// Client makes typed hypercalls with one input and one output page.
// Not safe for concurrent use (a VP owns its pages, as Linux's per-CPU
// hyperv_pcpu_input_arg).
type Client struct {
	HC      Hypercaller
	In, Out Page
}

// simple makes a simple memory-based call.
func (c *Client) simple(code CallCode) error {
	r := c.HC.Hypercall(Simple(code), c.In.GPA, c.Out.GPA)
	if s := r.Status(); s != StatusSuccess {
		return &Error{Code: code, Status: s}
	}
	return nil
}

// rep makes a rep call over count elements, reissuing it from the reps
// completed until all are done, as Linux's hv_do_rep_hypercall does
// (TLFS Hypercall Interface, "Hypercall Classes": the hypervisor may
// return before the whole list is processed). A hypervisor that reports
// no progress, or progress past the list, is refused rather than looped
// on.
func (c *Client) rep(code CallCode, count int) error {
	start := 0
	for {
		ctl, err := Rep(code, count, start)
		if err != nil {
			return err
		}
		r := c.HC.Hypercall(ctl, c.In.GPA, c.Out.GPA)
		done := r.RepsCompleted()
		if s := r.Status(); s != StatusSuccess {
			return &Error{Code: code, Status: s, Reps: done}
		}
		if done <= start || done > count {
			return fmt.Errorf("hv: %v: hypervisor reports %d of %d reps completed after starting at %d", code, done, count, start)
		}
		if done == count {
			return nil
		}
		start = done
	}
}

// ModifyVtlProtectionMask sets the access VTL vtl has to n pages from
// guest page number pfn to flags (TLFS
// hypercalls/HvCallModifyVtlProtectionMask.md, call code 0x000C, rep), in
// calls of at most MaxProtectPages pages.
func (c *Client) ModifyVtlProtectionMask(vtl uint8, flags MapFlags, pfn uint64, n int) error {
	if n <= 0 {
		return fmt.Errorf("hv: HvCallModifyVtlProtectionMask over %d pages", n)
	}
	var pfns [MaxProtectPages]uint64
	for done := 0; done < n; {
		k := min(n-done, MaxProtectPages)
		for i := range k {
			pfns[i] = pfn + uint64(done+i)
		}
		h := ProtectionHeader{Partition: PartitionSelf, Flags: flags, VTL: TargetVTL(vtl)}
		if err := EncodeProtection(c.In.Mem, h, pfns[:k]); err != nil {
			return err
		}
		if err := c.rep(CallModifyVtlProtectionMask, k); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// GetVpRegisters reads registers of VTL vtl of the calling VP into values
// (TLFS hypercalls/HvCallGetVpRegisters.md, call code 0x0050, rep).
func (c *Client) GetVpRegisters(vtl InputVTL, names []RegisterName, values []RegisterValue) error {
	if len(values) != len(names) {
		return fmt.Errorf("hv: HvCallGetVpRegisters: %d names, %d values", len(names), len(values))
	}
	h := RegistersHeader{Partition: PartitionSelf, VP: VPSelf, VTL: vtl}
	if err := EncodeGetRegisters(c.In.Mem, h, names); err != nil {
		return err
	}
	if err := c.rep(CallGetVpRegisters, len(names)); err != nil {
		return err
	}
	for i := range values {
		values[i] = RegisterValueAt(c.Out.Mem, i)
	}
	return nil
}

// GetVpRegister reads one 64-bit register.
func (c *Client) GetVpRegister(vtl InputVTL, name RegisterName) (uint64, error) {
	var v [1]RegisterValue
	err := c.GetVpRegisters(vtl, []RegisterName{name}, v[:])
	return v[0].Low, err
}

// SetVpRegisters writes registers of VTL vtl of the calling VP (TLFS
// hypercalls/HvCallSetVpRegisters.md, call code 0x0051, rep).
func (c *Client) SetVpRegisters(vtl InputVTL, regs []Assoc) error {
	h := RegistersHeader{Partition: PartitionSelf, VP: VPSelf, VTL: vtl}
	if err := EncodeSetRegisters(c.In.Mem, h, regs); err != nil {
		return err
	}
	return c.rep(CallSetVpRegisters, len(regs))
}

// SetVpRegister writes one 64-bit register.
func (c *Client) SetVpRegister(vtl InputVTL, name RegisterName, v uint64) error {
	return c.SetVpRegisters(vtl, []Assoc{{Name: name, Value: RegisterValue{Low: v}}})
}

// EnablePartitionVtl enables vtl for the partition (TLFS
// hypercalls/HvCallEnablePartitionVtl.md, 0x000D, simple). The VTL0
// loader's call, made here by the simulator's VTL0.
func (c *Client) EnablePartitionVtl(vtl uint8, mbec bool) error {
	EncodeEnablePartitionVtl(c.In.Mem, PartitionSelf, vtl, mbec)
	return c.simple(CallEnablePartitionVtl)
}

// EnableVpVtl enables vtl on the calling VP with initial context ctx (TLFS
// hypercalls/HvCallEnableVpVtl.md, 0x000F, simple).
func (c *Client) EnableVpVtl(vtl uint8, ctx *InitialVPContext) error {
	EncodeEnableVpVtl(c.In.Mem, PartitionSelf, VPSelf, vtl, ctx)
	return c.simple(CallEnableVpVtl)
}
