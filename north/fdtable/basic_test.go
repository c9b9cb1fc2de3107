package fdtable

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestReadArchiveFile(t *testing.T) {
	e := newEnv(t)
	if got := e.cat("/etc/hosts"); got != "127.0.0.1 localhost\n" {
		t.Errorf("cat /etc/hosts = %q", got)
	}
	if got := e.cat("/etc/link"); got != "127.0.0.1 localhost\n" {
		t.Errorf("cat /etc/link = %q", got)
	}
	if got := e.cat("/etc/abs"); got != "127.0.0.1 localhost\n" {
		t.Errorf("cat /etc/abs = %q", got)
	}
	if got := e.cat("/usr/lib/../lib/./a"); got != "aaa" {
		t.Errorf("cat /usr/lib/../lib/./a = %q", got)
	}
}

func TestConsoleFDs(t *testing.T) {
	e := newEnv(t)
	e.write(1, "hello ")
	e.write(2, "world")
	if got := e.out.String(); got != "hello world" {
		t.Errorf("console = %q", got)
	}
	fd := e.open("/dev/stdout", linux.OWronly, 0)
	e.write(fd, "!")
	if got := e.out.String(); got != "hello world!" {
		t.Errorf("console after /dev/stdout = %q", got)
	}
}
