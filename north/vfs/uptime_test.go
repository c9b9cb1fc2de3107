package vfs

import "testing"

// TestUptimeFormat: /proc/uptime is seconds with two decimals, truncated
// (fs/proc/uptime.c), the uptime first and the idle time second.
func TestUptimeFormat(t *testing.T) {
	for _, c := range []struct {
		up, idle int64
		want     string
	}{
		{61_239_999_999, 5_010_000_000, "61.23 5.01\n"},
		{1_000_000_000, 0, "1.00 0.00\n"},
		{123456_090_000_000, 99_999_999, "123456.09 0.09\n"},
	} {
		if got := string(uptime(c.up, c.idle)); got != c.want {
			t.Errorf("uptime(%d, %d) = %q, want %q", c.up, c.idle, got, c.want)
		}
	}
}

// TestLoadavgFormat: /proc/loadavg rounds each fixed-point average to
// two decimals (get_avenrun's FIXED_1/200) and ends with running/total
// and the last ID.
func TestLoadavgFormat(t *testing.T) {
	got := string(loadavg([3]uint64{164, 2048, 2048*3/2 + 20}, 1, 7, 42))
	if want := "0.08 1.00 1.51 1/7 42\n"; got != want {
		t.Errorf("loadavg = %q, want %q", got, want)
	}
}

// TestStatFormat: /proc/stat's lines in show_stat's order, times in
// USER_HZ ticks with the cpu line's two spaces.
func TestStatFormat(t *testing.T) {
	got := string(stat(CPUStat{User: 1_239_000_000, System: 50_000_000, Idle: 7_009_999_999,
		Interrupts: 812, Switches: 3000, Boot: 1796592604, Forks: 9, Running: 2, Blocked: 0}))
	want := "cpu  123 0 5 700 0 0 0 0 0 0\n" +
		"cpu0 123 0 5 700 0 0 0 0 0 0\n" +
		"intr 812\nctxt 3000\nbtime 1796592604\nprocesses 9\nprocs_running 2\nprocs_blocked 0\n" +
		"softirq 0 0 0 0 0 0 0 0 0 0 0\n"
	if got != want {
		t.Errorf("stat =\n%s\nwant\n%s", got, want)
	}
}
