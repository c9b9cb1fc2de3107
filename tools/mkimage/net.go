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

// config returns the guest's network for an application in initrd.
func (f *netFlags) config(initrd string) (*qemu.Net, error) {
	switch f.mode {
	case "none":
		if len(f.publish) > 0 {
			return nil, errors.New("--publish needs a network: drop --net none")
		}
		return nil, nil
	case "user":
		return &qemu.Net{Forwards: f.publish}, nil
	case "":
	default:
		return nil, fmt.Errorf("--net %s: want user or none", f.mode)
	}
	if len(f.publish) > 0 || usesNetwork(initrd) {
		return &qemu.Net{Forwards: f.publish}, nil
	}
	return nil, nil
}

// networkSymbols are functions only a program that makes sockets links:
// Go's net and syscall packages, and the C library's socket calls.
var networkSymbols = map[string]bool{
	"net.socket": true, "syscall.Socket": true, "syscall.socket": true,
	"socket": true, "__socket": true, "connect": true, "__libc_connect": true, "getaddrinfo": true,
}

// usesNetwork reports whether the application (/init of the initrd
// archive) may use the network: it links a socket call, or it has no
// symbol table to tell.
func usesNetwork(initrd string) bool {
	if initrd == "" {
		return false
	}
	data, err := os.ReadFile(initrd)
	if err != nil {
		return false
	}
	r := cpio.Newc.Reader(bytes.NewReader(data))
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			return false
		}
		if strings.TrimPrefix(rec.Name, "./") != "init" {
			continue
		}
		f, err := elf.NewFile(io.NewSectionReader(rec.ReaderAt, 0, int64(rec.FileSize)))
		if err != nil {
			return false
		}
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
}
