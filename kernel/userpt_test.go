package kernel

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// TestPopulateAction checks the decisions of the application's page
// faults and the kernel's copies in and out, the zero page's above all:
// a read of an untouched private anonymous page maps the zero frame, a
// write (or a forced write while loading a program) gives the page a
// zeroed frame of its own, a Filled region's page is the personality's,
// and the protection is checked first.
func TestPopulateAction(t *testing.T) {
	const zero, other = 0x5000, 0x9000
	const rw, ro, none = vmspace.Read | vmspace.Write, vmspace.Read, vmspace.Prot(0)
	zeroRW := zeroPTE(zero, rw)
	zeroRO := zeroPTE(zero, ro)
	own := other | userPTE(rw)
	cow := other | pteCOW | userPTE(ro)
	kept := uint64(other | pteProtNone) // PROT_NONE kept page
	for _, c := range []struct {
		name string
		pte  uint64
		prot vmspace.Prot
		kind vmspace.Kind
		acc  int
		want int
	}{
		{"read untouched anonymous", 0, rw, vmspace.Anon, accRead, actZero},
		{"read untouched read-only anonymous", 0, ro, vmspace.Anon, accRead, actZero},
		{"write untouched anonymous", 0, rw, vmspace.Anon, accWrite, actAlloc},
		{"force untouched read-only anonymous", 0, ro, vmspace.Anon, accForce, actAlloc},
		{"read the zero page", zeroRW, rw, vmspace.Anon, accRead, actHave},
		{"write the zero page", zeroRW, rw, vmspace.Anon, accWrite, actBreakZero},
		{"write the zero page after mprotect", zeroRO, rw, vmspace.Anon, accWrite, actBreakZero},
		{"force the zero page of a read-only mapping", zeroRO, ro, vmspace.Anon, accForce, actBreakZero},
		{"write the zero page of a read-only mapping", zeroRO, ro, vmspace.Anon, accWrite, actFault},
		{"write a page of its own", own, rw, vmspace.Anon, accWrite, actHave},
		{"write a shared copy-on-write page", cow, rw, vmspace.Anon, accWrite, actBreakCOW},
		{"read a shared copy-on-write page", cow, rw, vmspace.Anon, accRead, actHave},
		{"force a shared copy-on-write page", cow, ro, vmspace.Filled, accForce, actBreakCOW},
		{"force a shared page", own | pteShared, ro, vmspace.Filled, accForce, actHave},
		{"read untouched Filled", 0, rw, vmspace.Filled, accRead, actFill},
		{"write untouched Filled", 0, rw, vmspace.Filled, accWrite, actFill},
		{"read PROT_NONE", 0, none, vmspace.Anon, accRead, actFault},
		{"force a kept PROT_NONE page", kept, none, vmspace.Anon, accForce, actFault},
		{"force untouched PROT_NONE", 0, none, vmspace.Anon, accForce, actFault},
	} {
		if got := populateAction(c.pte, c.prot, c.kind, c.acc, zero); got != c.want {
			t.Errorf("%s: action %d, want %d", c.name, got, c.want)
		}
	}
}

// TestZeroPTE: the zero frame is mapped present, user, never writable,
// copy-on-write (so that a write or mprotect's new Write breaks it), and
// executable only where the mapping is.
func TestZeroPTE(t *testing.T) {
	const zero = 0x7000
	for _, prot := range []vmspace.Prot{vmspace.Read, vmspace.Read | vmspace.Write, vmspace.Read | vmspace.Exec, vmspace.Read | vmspace.Write | vmspace.Exec} {
		e := zeroPTE(zero, prot)
		if e&pteFrame != zero || e&ptePresent == 0 || e&pteUser == 0 || e&pteWrite != 0 || e&pteCOW == 0 {
			t.Errorf("prot %d: entry %#x", prot, e)
		}
		if (e&pteNX == 0) != (prot&vmspace.Exec != 0) {
			t.Errorf("prot %d: entry %#x: NX wrong", prot, e)
		}
		// mprotect keeps the copy-on-write bit and so the page read-only
		// (spaceProtect's rewrite of a present entry).
		if p := e&(pteFrame|pteCOW|pteShared) | userPTE(cowProt(vmspace.Read|vmspace.Write, e)); p&pteWrite != 0 {
			t.Errorf("prot %d: mprotect(PROT_READ|PROT_WRITE) made the zero page writable: %#x", prot, p)
		}
	}
}
