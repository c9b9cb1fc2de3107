package vfs

import "testing"

// TestMeminfo: /proc/meminfo's lines as Linux prints them (label padded
// to 16 columns, value to 8, in kB), with only what Cocoon knows.
func TestMeminfo(t *testing.T) {
	got := string(meminfo(256<<20, 100<<20+1023))
	want := "MemTotal:         262144 kB\n" +
		"MemFree:          102400 kB\n" +
		"MemAvailable:     102400 kB\n" +
		"SwapTotal:             0 kB\n" +
		"SwapFree:              0 kB\n"
	if got != want {
		t.Errorf("meminfo:\n%s\nwant:\n%s", got, want)
	}
}
