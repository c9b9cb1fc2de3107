package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/fdtable"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestLimitsAsSysctls: the limits /proc/sys states are the ones the
// calls enforce. RLIMIT_NOFILE's hard limit may not pass fs.nr_open,
// even with a low soft one (do_prlimit's EPERM, which the descriptor
// table, bounding only the soft limit, would not give); PR_CAPBSET_READ
// answers up to kernel.cap_last_cap and is EINVAL past it.
func TestLimitsAsSysctls(t *testing.T) {
	if nrOpen != fdtable.MaxLimit {
		t.Errorf("fs.nr_open %d, the descriptor table's bound %d", nrOpen, fdtable.MaxLimit)
	}
	p, task, _ := newTest(t)
	for _, c := range []struct {
		soft, hard uint64
		want       int64
	}{{1024, nrOpen + 1, -linux.EPERM}, {nrOpen + 1, nrOpen + 1, -linux.EPERM}, {1024, nrOpen, 0}, {nrOpen, nrOpen, 0}} {
		mem.WriteUint64(p.m, scratch, c.soft)
		mem.WriteUint64(p.m, scratch+8, c.hard)
		if got := sc(task, linux.SysPrlimit64, 0, linux.RlimitNofile, scratch, 0); got != c.want {
			t.Errorf("RLIMIT_NOFILE soft %d hard %d = %d, want %d", c.soft, c.hard, got, c.want)
		}
	}
	if got := p.Sysctls()["kernel/cap_last_cap"](); got != "40\n" {
		t.Errorf("cap_last_cap = %q, want Linux 6.x's 40 (CAP_CHECKPOINT_RESTORE)", got)
	}
	const prCapbsetRead = 23
	for capability, want := range map[uint64]int64{0: 1, 21: 1, 40: 1, 41: -linux.EINVAL, 64: -linux.EINVAL, 1 << 40: -linux.EINVAL} {
		if got := sc(task, linux.SysPrctl, prCapbsetRead, capability); got != want {
			t.Errorf("PR_CAPBSET_READ %d = %d, want %d", capability, got, want)
		}
	}
}
