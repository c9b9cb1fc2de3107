package attest

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

func TestUnavailable(t *testing.T) {
	devicePath = filepath.Join(t.TempDir(), "sev-guest")
	defer func() { devicePath = DevicePath }()
	if _, err := GetReport([64]byte{}); err != ErrUnavailable {
		t.Errorf("GetReport = %v, want ErrUnavailable", err)
	}
	if _, _, err := ExtendedReport([64]byte{}); err != ErrUnavailable {
		t.Errorf("ExtendedReport = %v, want ErrUnavailable", err)
	}
	if _, err := Certificates(); err != ErrUnavailable {
		t.Errorf("Certificates = %v, want ErrUnavailable", err)
	}
	if _, err := DeriveKey(&guestmsg.KeyRequest{}); err != ErrUnavailable {
		t.Errorf("DeriveKey = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(ErrUnavailable.Error(), "attestation unavailable") {
		t.Errorf("ErrUnavailable = %q", ErrUnavailable)
	}
}

func TestErrorMessages(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "SNP_GET_REPORT", Errno: syscall.ENOTTY}, "disabled"},
		{&Error{Op: "SNP_GET_REPORT", Errno: syscall.EBADMSG}, "authentication"},
		{&Error{Op: "SNP_GET_REPORT", Errno: syscall.EIO, ExitInfo2: 0x16}, "INVALID_PARAM"},
		{&Error{Op: "SNP_GET_REPORT", Errno: syscall.EIO, ExitInfo2: 0xff}, "channel"},
		{&Error{Op: "SNP_GET_EXT_REPORT", Errno: syscall.EIO, ExitInfo2: 2 << 32}, "busy"},
	} {
		if got := c.err.Error(); !strings.Contains(got, c.want) || !strings.Contains(got, c.err.Op) {
			t.Errorf("%+v: %q, want it to mention %q", c.err, got, c.want)
		}
		if !errors.Is(c.err, c.err.Errno) {
			t.Errorf("%+v does not unwrap to its errno", c.err)
		}
	}
}
