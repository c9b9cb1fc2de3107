package vtlcall

import "testing"

func TestRegisterMapping(t *testing.T) {
	// hv_vsm_boot.c __hv_vsm_init_vtlcall: a0->RDI, a1->RSI, a2->RDX,
	// a3->R8, and back.
	r := Regs{Rdi: 1, Rsi: 2, Rdx: 3, R8: 4, Rcx: 5, R9: 6}
	a := FromRegs(&r)
	if a != (Args{1, 2, 3, 4}) {
		t.Errorf("FromRegs = %+v", a)
	}
	Args{7, 8, 9, 10}.ToRegs(&r)
	if r.Rdi != 7 || r.Rsi != 8 || r.Rdx != 9 || r.R8 != 10 || r.Rcx != 5 || r.R9 != 6 {
		t.Errorf("ToRegs = %+v", r)
	}
	// The status VTL0 reads is (int)a3.
	if Status(22) != 0xFFFF_FFFF_FFFF_FFEA || StatusOf(Status(22)) != -22 || StatusOf(0) != 0 {
		t.Errorf("Status(22) = %#x", Status(22))
	}
	// mshv_vsm_vtl1.c enum vsm_service_ids.
	if FuncEnableAPsVtl != 0x1FFE0 || FuncBootAPs != 0x1FFE1 || FuncLockRegs != 0x1FFE2 || FuncEndOfBoot != 0x1FFE3 || FuncProtectMemory != 0x1FFE4 {
		t.Error("LVBS function IDs")
	}
}

func TestBootArgs(t *testing.T) {
	ok := BootArgs{CPUs: 2, Start: 0x1_0000_0000, End: 0x1_0100_0000, MaxPhys: 0x2_0000_0000}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if Boot(ok.Args()) != ok || ok.Args() != (Args{2, 0x1_0000_0000, 0x1_0100_0000, 0x2_0000_0000}) {
		t.Error("boot call: a0 CPUs, a1 start, a2 end, a3 end of RAM")
	}
	for _, b := range []BootArgs{
		{CPUs: 0, Start: ok.Start, End: ok.End, MaxPhys: ok.MaxPhys},
		{CPUs: 65, Start: ok.Start, End: ok.End, MaxPhys: ok.MaxPhys},
		{CPUs: 1, Start: ok.Start + 8, End: ok.End, MaxPhys: ok.MaxPhys},
		{CPUs: 1, Start: ok.Start, End: ok.Start + 15<<20, MaxPhys: ok.MaxPhys},
		{CPUs: 1, Start: ok.Start, End: ok.End, MaxPhys: ok.End - 4096},
		{CPUs: 1, Start: ok.Start, End: ok.End, MaxPhys: 1<<52 + 4096},
		{CPUs: 1, Start: ^uint64(0) &^ 0xFFF, End: 0x100_0000, MaxPhys: ok.MaxPhys},
	} {
		if b.Validate() == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}
