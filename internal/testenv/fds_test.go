package testenv

import (
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// TestNoInheritedFDs: a descriptor opened without close-on-exec, as one
// inherited from a CI runner is, is not seen by a program started after
// NoInheritedFDs.
func TestNoInheritedFDs(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	seen := func() bool {
		return exec.Command("/bin/sh", "-c", "test -e /proc/self/fd/"+strconv.Itoa(fd)).Run() == nil
	}
	if !seen() {
		t.Fatalf("a program does not see descriptor %d before NoInheritedFDs: the test cannot tell", fd)
	}
	if err := NoInheritedFDs(); err != nil {
		t.Fatal(err)
	}
	if seen() {
		t.Errorf("a program still sees descriptor %d after NoInheritedFDs", fd)
	}
}
