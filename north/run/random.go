package run

import (
	"fmt"
	"syscall"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// random fills b from getrandom(2), which the kernel serves from the
// CPU's RDSEED or RDRAND (kernel/sys.go; the kernel does not boot
// without one). That is what crypto/rand.Read does here (its DRBG is for
// FIPS 140 mode only), without linking crypto/rand, whose packages'
// initialisers and first use cost translated blocks at every boot under
// TCG. Like crypto/rand.Read, it never returns short: a generator that
// fails is a fatal error.
func random(b []byte) {
	for len(b) > 0 {
		// unsafe: getrandom writes at most len(b) bytes at &b[0].
		n, _, errno := syscall.Syscall(linux.SysGetrandom, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			panic(fmt.Sprintf("cocoon: getrandom: %v", errno))
		}
		b = b[n:]
	}
}
