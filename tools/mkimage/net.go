package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
	"github.com/u-root/u-root/pkg/cpio"
)

// netFlags are 'mkimage run's networking flags.
type netFlags struct {
	mode    string // "", "user" or "none"
	publish []qemu.Forward
}

func (f *netFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "net", "", "`MODE`: user (QEMU's user network: DHCP, the host's loopback as 10.0.2.2) or none; default user when the application uses the network")
	fs.Func("publish", "make guest port GUESTPORT reachable at 127.0.0.1:HOSTPORT on the host (`HOSTPORT:GUESTPORT[/udp]`); repeatable", func(s string) error {
		fw, err := qemu.ParseForward(s)
		if err != nil {
			return err
		}
		f.publish = append(f.publish, fw)
		return nil
	})
}

// config returns the guest's network for an application in initrd,
// booted by a kernel with a network (kernelNet) or without
// (kbuild.WithoutNetwork): that one gets none, and asking for one is an
// error that says how to build a kernel with it.
func (f *netFlags) config(initrd string, kernelNet bool) (*qemu.Net, error) {
	switch f.mode {
	case "none":
		if len(f.publish) > 0 {
			return nil, errors.New("--publish needs a network: drop --net none")
		}
		return nil, nil
	case "user", "":
	default:
		return nil, fmt.Errorf("--net %s: want user or none", f.mode)
	}
	if !kernelNet {
		if f.mode == "user" || len(f.publish) > 0 {
			return nil, errors.New("--net user and --publish need a network, and the image's kernel was built without one " +
				"('mkimage build --network off', or auto: its programs make no sockets): rebuild it with 'mkimage build --network on'")
		}
		return nil, nil
	}
	if f.mode == "user" || len(f.publish) > 0 || usesNetwork(initrd) {
		return &qemu.Net{Forwards: f.publish}, nil
	}
	return nil, nil
}

// The modes of 'mkimage build --network': whether the kernel links its
// TCP/IP stack (tools/kbuild Options.NoNetwork).
const (
	networkAuto = "auto"
	networkOn   = "on"
	networkOff  = "off"
)

// checkNetworkMode checks a --network mode with the ports to publish.
func checkNetworkMode(mode string, ports []string) error {
	switch mode {
	case networkAuto, networkOn:
		return nil
	case networkOff:
		if len(ports) > 0 {
			return errors.New("--publish needs a network: drop --network off")
		}
		return nil
	}
	return fmt.Errorf("--network %q: want auto, on or off", mode)
}

// kernelNetwork decides, by a checked --network mode, whether the kernel
// of an image with the application archive ("" if none) and published
// ports links the network, and says why.
func kernelNetwork(mode, archive string, ports []string) (bool, string, error) {
	switch {
	case mode == networkOn:
		return true, "--network on", nil
	case mode == networkOff:
		return false, "--network off", nil
	case len(ports) > 0:
		return true, "ports are published", nil
	case archive == "":
		return true, "no application to look at", nil
	}
	name, err := networkProgram(archive, false)
	if err != nil {
		return false, "", err
	}
	if name != "" {
		return true, name + " may make sockets", nil
	}
	return false, "no program of the application makes sockets", nil
}

// kernelHasNetwork reports whether the kernel of an image (the kernel
// file, or else the disk holding it) was built with a network.
func kernelHasNetwork(kernel, disk string) (bool, error) {
	if kernel == "" {
		kernel = disk
	}
	img, err := os.ReadFile(kernel)
	if err != nil {
		return false, err
	}
	return !kbuild.WithoutNetwork(img), nil
}

// networkSymbols are functions only a program that makes sockets links:
// Go's net, syscall and golang.org/x/sys/unix packages, and the C
// library's socket calls.
var networkSymbols = map[string]bool{
	"net.socket": true, "syscall.Socket": true, "syscall.socket": true,
	"golang.org/x/sys/unix.Socket": true, "golang.org/x/sys/unix.socket": true,
	"socket": true, "__socket": true, "connect": true, "__libc_connect": true, "getaddrinfo": true,
}

// usesNetwork reports whether the application (/init of the initrd
// archive) may use the network: it links a socket call, or it has no
// symbol table to tell.
func usesNetwork(initrd string) bool {
	if initrd == "" {
		return false
	}
	name, err := networkProgram(initrd, true)
	return err == nil && name != ""
}

// networkProgram returns the name of the first program in the cpio
// archive (an ELF file; only /init if onlyInit) that may make internet
// sockets: it links a socket call, or has no symbol table to tell. ""
// means none may.
func networkProgram(archive string, onlyInit bool) (string, error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return "", err
	}
	r := cpio.Newc.Reader(bytes.NewReader(data))
	for {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: %v", archive, err)
		}
		name := "/" + strings.TrimPrefix(rec.Name, "./")
		if onlyInit && name != "/init" || rec.Mode&cpio.S_IFMT != cpio.S_IFREG {
			continue
		}
		f, err := elf.NewFile(io.NewSectionReader(rec.ReaderAt, 0, int64(rec.FileSize)))
		if err != nil {
			continue // not a program
		}
		if mayUseNetwork(f) {
			return name, nil
		}
	}
}

// mayUseNetwork reports whether the program f links a socket call or has
// no symbol table to tell.
func mayUseNetwork(f *elf.File) bool {
	syms, err := f.Symbols()
	if err != nil || len(syms) == 0 {
		return true
	}
	for _, s := range syms {
		if networkSymbols[s.Name] {
			return true
		}
	}
	return false
}
