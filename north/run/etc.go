package run

import (
	"fmt"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// The account files every Linux system has (Debian's base-passwd, the
// distroless images Go programs are shipped in), written at boot unless
// the image brings its own. Without /etc/passwd Go's os/user (without
// cgo, as mkimage builds) cannot name the user the application runs as:
// user.Current failed with "user: Current requires cgo or $USER set in
// environment", user.LookupGroupId("0") with ENOENT, and programs that
// drop privileges to nobody could not look it up. Root's home is "/",
// the HOME the application is given.
const (
	etcPasswd = "/etc/passwd"
	etcGroup  = "/etc/group"
	passwd    = "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
	group     = "root:x:0:\nnogroup:x:65534:\n"
)

// writeAccounts writes /etc/passwd and /etc/group where the image has
// none, saying on the console why it could not.
func (f *files) writeAccounts(o Options) {
	for _, e := range []struct{ path, data string }{{etcPasswd, passwd}, {etcGroup, group}} {
		if _, err := f.writeIfMissing(e.path, e.data, true); err != nil {
			fmt.Fprintf(o.Stdout, "cocoon: writing %s: %v\n", e.path, err)
		}
	}
}

// writeIfMissing makes path's directory if needed and, with create,
// creates path with data unless it exists; it reports whether it wrote.
func (f *files) writeIfMissing(path, data string, create bool) (bool, error) {
	dir := path[:strings.LastIndex(path, "/")]
	if err := f.fs.Mkdir(f.f, f.fs.Root(), dir, 0o755); err != nil && err != vfs.EEXIST {
		return false, err
	}
	if !create {
		return false, nil
	}
	file, err := f.fs.Open(f.f, f.fs.Root(), path, linux.OWronly|linux.OCreat|linux.OExcl, 0o644)
	if err == vfs.EEXIST {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer file.DecRef()
	_, err = file.Write(vfs.BytesBuf([]byte(data)))
	return err == nil, err
}
