package fdtable

import (
	"reflect"

	"github.com/cocoon-vm/cocoon/north/vfs"
)

// KcmpIDs returns the identities kcmp(2) compares: the task's descriptor
// table (KCMP_FILES) and its working directory and umask (KCMP_FS), as
// addresses.
func (fs *Files) KcmpIDs() (table, fsCtx uintptr) {
	return reflect.ValueOf(fs.tab()).Pointer(), reflect.ValueOf(fs.ctx.Load()).Pointer()
}

// FileID returns the identity of the open file description at fd
// (KCMP_FILE), ok false if fd is not open.
func (fs *Files) FileID(fd int32) (id uintptr, ok bool) {
	f, ok := fs.tab().Get(fd)
	if !ok {
		return 0, false
	}
	defer f.DecRef()
	return reflect.ValueOf(f).Pointer(), true
}

// IsEpoll reports whether fd is an epoll instance.
func (fs *Files) IsEpoll(fd int32) bool {
	f, ok := fs.tab().Get(fd)
	if !ok {
		return false
	}
	defer f.DecRef()
	return vfs.EpollOf(f) != nil
}
