package hvtest

import "github.com/cocoon-vm/cocoon/lvbs/hv"

// Hypercall implements hv.Hypercaller: it checks the input value and the
// parameter pages as TLFS Hypercall Interface, "Hypercall Inputs" and
// "Alignment Requirements" say the hypervisor does, then runs the call.
func (h *Hypervisor) Hypercall(c hv.Control, inGPA, outGPA uint64) hv.Result {
	h.Calls = append(h.Calls, c)
	h.calls++
	code := c.Code()
	if s, ok := h.Fail[code]; ok {
		return hv.MakeResult(s, c.RepStart())
	}
	if h.FailAfter > 0 && h.calls > h.FailAfter {
		return hv.MakeResult(hv.StatusInsufficientMemory, c.RepStart())
	}
	if c.ReservedBits() != 0 || c.VarHeaderQwords() != 0 || c.IsFast() {
		return hv.MakeResult(hv.StatusInvalidHypercallInput, 0)
	}
	if inGPA%8 != 0 || outGPA%8 != 0 || inGPA+hv.PageSize > h.Size() || outGPA+hv.PageSize > h.Size() {
		return hv.MakeResult(hv.StatusInvalidAlignment, 0)
	}
	switch code {
	case hv.CallModifyVtlProtectionMask, hv.CallGetVpRegisters, hv.CallSetVpRegisters:
		// "a zero rep count is passed to a rep call" (TLFS Hypercall
		// Interface, "Common Hypercall Status Codes").
		if c.RepCount() == 0 || c.RepStart() >= c.RepCount() {
			return hv.MakeResult(hv.StatusInvalidHypercallInput, 0)
		}
	}
	in, out := h.Mem(inGPA&^0xFFF, hv.PageSize), h.Mem(outGPA&^0xFFF, hv.PageSize)
	rep := func(count int, each func(i int) hv.Status) hv.Result {
		if c.RepCount() != count || c.RepStart() >= count {
			return hv.MakeResult(hv.StatusInvalidHypercallInput, 0)
		}
		end := count
		if h.MaxReps > 0 {
			end = min(count, c.RepStart()+h.MaxReps)
		}
		done := c.RepStart()
		for ; done < end; done++ {
			if s := each(done); s != hv.StatusSuccess {
				return hv.MakeResult(s, done)
			}
		}
		if h.LieReps != nil {
			done = h.LieReps(c.RepStart(), count, done)
		}
		return hv.MakeResult(hv.StatusSuccess, done)
	}
	switch code {
	case hv.CallModifyVtlProtectionMask:
		hdr, pfns, err := hv.DecodeProtection(in, c.RepCount())
		if err != nil || hdr.Partition != hv.PartitionSelf || c.RepCount() == 0 {
			return hv.MakeResult(hv.StatusInvalidParameter, 0)
		}
		vtl, named := hdr.VTL.Target()
		if !named || vtl != 0 || hdr.VTL.Reserved() || hdr.Flags&^hv.MapAll != 0 {
			// "A VTL can only place protections on a lower VTL."
			return hv.MakeResult(hv.StatusInvalidParameter, 0)
		}
		return rep(c.RepCount(), func(i int) hv.Status {
			if (pfns[i]+1)*hv.PageSize > h.Size() {
				return hv.StatusInvalidParameter // not RAM
			}
			if hdr.Flags == hv.MapAll {
				delete(h.Prot, pfns[i])
			} else {
				h.Prot[pfns[i]] = hdr.Flags
			}
			return hv.StatusSuccess
		})
	case hv.CallGetVpRegisters:
		hdr, names, err := hv.DecodeGetRegisters(in, c.RepCount())
		if err != nil || hdr.Partition != hv.PartitionSelf || hdr.VP != hv.VPSelf || c.RepCount() == 0 || c.RepCount() > hv.MaxGetRegisters {
			return hv.MakeResult(hv.StatusInvalidParameter, 0)
		}
		regs := h.regs(hdr.VTL)
		return rep(c.RepCount(), func(i int) hv.Status {
			v, ok := regs[names[i]]
			if !ok {
				return hv.StatusInvalidParameter
			}
			hv.PutRegisterValue(out, i, v)
			return hv.StatusSuccess
		})
	case hv.CallSetVpRegisters:
		hdr, assocs, err := hv.DecodeSetRegisters(in, c.RepCount())
		if err != nil || hdr.Partition != hv.PartitionSelf || hdr.VP != hv.VPSelf || c.RepCount() == 0 {
			return hv.MakeResult(hv.StatusInvalidParameter, 0)
		}
		regs := h.regs(hdr.VTL)
		return rep(c.RepCount(), func(i int) hv.Status {
			a := assocs[i]
			if a.Name == hv.RegVsmCodePageOffsets || a.Name == hv.RegVsmVpStatus {
				return hv.StatusInvalidParameter // read-only
			}
			if a.Name == hv.RegPendingEvent0 {
				h.Injected = append(h.Injected, a.Value)
			}
			regs[a.Name] = a.Value
			return hv.StatusSuccess
		})
	case hv.CallEnablePartitionVtl, hv.CallEnableVpVtl:
		if c.RepCount() != 0 || c.RepStart() != 0 {
			return hv.MakeResult(hv.StatusInvalidHypercallInput, 0)
		}
		return h.enable(code, in)
	}
	return hv.MakeResult(hv.StatusInvalidHypercallCode, 0)
}

// enable serves the VTL0 loader's calls (TLFS hypercalls/
// HvCallEnablePartitionVtl.md, HvCallEnableVpVtl.md): VTL1 once for the
// partition, then once for the VP, which "will fail if called to enable a
// VTL that is already enabled".
func (h *Hypervisor) enable(code hv.CallCode, in []byte) hv.Result {
	if code == hv.CallEnablePartitionVtl {
		part, vtl, mbec, err := hv.DecodeEnablePartitionVtl(in)
		switch {
		case err != nil || part != hv.PartitionSelf || vtl != 1:
			return hv.MakeResult(hv.StatusInvalidParameter, 0)
		case h.PartitionVTL1:
			return hv.MakeResult(hv.StatusVtlAlreadyEnabled, 0)
		}
		h.PartitionVTL1, h.MBEC = true, mbec
		return hv.MakeResult(hv.StatusSuccess, 0)
	}
	part, vp, vtl, ctx, err := hv.DecodeEnableVpVtl(in)
	switch {
	case err != nil || part != hv.PartitionSelf || vp != hv.VPSelf || vtl != 1:
		return hv.MakeResult(hv.StatusInvalidParameter, 0)
	case !h.PartitionVTL1:
		return hv.MakeResult(hv.StatusInvalidVtlState, 0)
	case h.VPVTL1 != nil:
		return hv.MakeResult(hv.StatusVtlAlreadyEnabled, 0)
	}
	h.VPVTL1 = &ctx
	return hv.MakeResult(hv.StatusSuccess, 0)
}

// regs picks the register file an HV_INPUT_VTL names from VTL1.
func (h *Hypervisor) regs(v hv.InputVTL) map[hv.RegisterName]hv.RegisterValue {
	if vtl, named := v.Target(); named && vtl == 0 {
		return h.VTL0
	}
	return h.VTL1
}
