// Command netinit is /init of the Linux guest in the network benchmark
// (make bench): it loads the virtio-net driver modules the initramfs
// holds in /modules (in the order /modules/order lists, dependencies
// first), gives eth0 the address QEMU's user network gives a guest by
// DHCP (10.0.2.15/24; the host's port forwards reach it there), brings
// eth0 and lo up, runs /app with its own arguments and powers off when
// it exits. Linux only.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netinit:", err)
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}

// ioctl requests on a socket (include/uapi/linux/sockios.h).
const (
	siocGIFFLAGS   = 0x8913
	siocSIFFLAGS   = 0x8914
	siocSIFADDR    = 0x8916
	siocSIFNETMASK = 0x891c
	siocGIFINDEX   = 0x8933
	iffUp          = 0x1
	sysFinitModule = 313 // finit_module on x86-64 (arch/x86/entry/syscalls/syscall_64.tbl)
)

func run(args []string) error {
	order, err := os.ReadFile("/modules/order")
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(order)) {
		if err := loadModule("/modules/" + name); err != nil {
			return fmt.Errorf("loading %s: %v", name, err)
		}
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	// The device is probed when its driver registers; give it time on a
	// loaded machine.
	for end := time.Now().Add(time.Minute); ioctl(fd, siocGIFINDEX, ifreq("eth0")) != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			return errors.New("no eth0 after loading the virtio-net driver")
		}
	}
	if err := setAddr(fd, siocSIFADDR, [4]byte{10, 0, 2, 15}); err != nil {
		return fmt.Errorf("eth0 address: %v", err)
	}
	if err := setAddr(fd, siocSIFNETMASK, [4]byte{255, 255, 255, 0}); err != nil {
		return fmt.Errorf("eth0 netmask: %v", err)
	}
	for _, ifname := range []string{"lo", "eth0"} {
		r := ifreq(ifname)
		if err := ioctl(fd, siocGIFFLAGS, r); err != nil {
			return fmt.Errorf("%s flags: %v", ifname, err)
		}
		r[16] |= iffUp
		if err := ioctl(fd, siocSIFFLAGS, r); err != nil {
			return fmt.Errorf("%s up: %v", ifname, err)
		}
	}
	cmd := exec.Command("/app", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	params := []byte{0}
	// unsafe: finit_module takes the parameter string as a C string.
	_, _, e := syscall.Syscall(sysFinitModule, f.Fd(), uintptr(unsafe.Pointer(&params[0])), 0)
	if e != 0 && e != syscall.EEXIST {
		return e
	}
	return nil
}

// ifreq is struct ifreq (include/uapi/linux/if.h): the name, then a
// 24-byte union (an address, or the flags in its first two bytes).
func ifreq(name string) []byte {
	b := make([]byte, 40)
	copy(b, name)
	return b
}

// setAddr sets an IPv4 address field of eth0: struct sockaddr_in
// (family, port, address) in the ifreq's union.
func setAddr(fd int, req uintptr, a [4]byte) error {
	r := ifreq("eth0")
	r[16], r[17] = syscall.AF_INET, 0
	copy(r[20:24], a[:])
	return ioctl(fd, req, r)
}

func ioctl(fd int, req uintptr, r []byte) error {
	// unsafe: ioctl's argument is the address of the ifreq.
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&r[0]))); e != 0 {
		return e
	}
	return nil
}
