package north_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

// TestVMNoNetwork runs north/testdata/nonetgo on the kernel built without
// network: AF_INET, AF_INET6 and AF_NETLINK sockets fail with
// EAFNOSUPPORT (loopback too), AF_UNIX works, and the console says why
// once. With a network device the kernel says it leaves it unused.
func TestVMNoNetwork(t *testing.T) {
	kernel := variantKernel(t, true)
	app := packELF(t, buildGo(t, "./north/testdata/nonetgo"))
	for _, c := range []struct {
		name   string
		extra  []string
		device bool
	}{{"no device", nil, false}, {"device", netArgs(), true}} {
		t.Run(c.name, func(t *testing.T) {
			res, err := qemu.Run(context.Background(), qemu.Config{
				Profile: qemu.Microvm, Kernel: kernel, Initrd: app,
				MemoryMiB: 256, Timeout: 5 * time.Minute, Extra: c.extra,
			})
			if res == nil {
				t.Fatalf("qemu: %v", err)
			}
			console := strings.ReplaceAll(res.Console, "\r", "")
			if err != nil || !strings.Contains(console, "nonetgo: PASS") {
				t.Errorf("nonetgo: %v\n%s", err, console)
			}
			const why = "this kernel was built without network"
			if n := strings.Count(console, "cocoon: socket(AF_INET): "+why); n != 1 {
				t.Errorf("the console explains the refused socket %d times, want once:\n%s", n, console)
			}
			unused := strings.Contains(console, "cocoon: a network device is left unused: "+why)
			if unused != c.device {
				t.Errorf("the console says a network device is unused: %v, want %v:\n%s", unused, c.device, console)
			}
		})
	}
}
