package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestOOMScoreAdjFloor: a privileged write of oom_score_adj sets the floor
// (oom_score_adj_min) an unprivileged one may not go below, the legacy
// oom_adj refuses an unprivileged write below the current value
// (fs/proc/base.c __set_oom_adj).
func TestOOMScoreAdjFloor(t *testing.T) {
	p, _, _ := newTest(t)
	steps := []struct {
		v                  int64
		legacy, privileged bool
		want               int
		adj                string
	}{
		{-500, false, true, 0, "-500\n"},
		{-600, false, false, linux.EACCES, "-500\n"},
		{-400, false, false, 0, "-400\n"},
		{-500, false, false, 0, "-500\n"}, // the floor itself
		{-9, true, false, linux.EACCES, "-500\n"},
		{-8, true, false, 0, "-470\n"}, // -8 * 1000 / 17
		{oomDisable, true, true, 0, "-1000\n"},
		{-500, false, false, 0, "-500\n"}, // a legacy write set no floor
		{1001, false, true, linux.EINVAL, "-500\n"},
		{16, true, true, linux.EINVAL, "-500\n"},
	}
	for i, s := range steps {
		if e := p.SetOOMScoreAdj(s.v, s.legacy, s.privileged); e != s.want {
			t.Errorf("step %d: SetOOMScoreAdj(%d, legacy %v, privileged %v) = %d, want %d", i, s.v, s.legacy, s.privileged, e, s.want)
		}
		if b, _ := p.ProcText(0, "oom_score_adj"); string(b) != s.adj {
			t.Errorf("step %d: oom_score_adj %q, want %q", i, b, s.adj)
		}
	}
}
