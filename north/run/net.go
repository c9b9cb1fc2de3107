package run

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/socket/inet"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// dhcpTimeout bounds the wait for a DHCP server at boot.
const dhcpTimeout = 10 * time.Second

// startNetwork joins the machine's network device, if it has one, to the
// stack and configures it: statically from ip (cocoon.ip=), else by
// DHCP; IPv6 from the link-local address, router advertisements and ip6
// (cocoon.ip6=). /etc/resolv.conf gets the name servers unless the image has its
// own. Without a device the stack has loopback only, and that is not an
// error.
func startNetwork(st *inet.Stack, f *files, ip, ip6 string, log io.Writer) error {
	dev, err := kernel.VirtioNet()
	if err != nil {
		return err
	}
	if dev == nil {
		return nil
	}
	var cfg inet.Config
	var cfg6 inet.Config6
	if ip6 != "" {
		if cfg6, err = inet.ParseStatic6(ip6); err != nil {
			return err
		}
	}
	if ip != "" {
		if cfg, err = inet.ParseStatic(ip); err != nil {
			return err
		}
	} else {
		var b [4]byte
		rand.Read(b[:])
		if cfg, err = inet.DHCP(dev, binary.LittleEndian.Uint32(b[:]), dhcpTimeout); err != nil {
			return fmt.Errorf("%v (give a static address with cocoon.ip=ADDRESS/PREFIX,GATEWAY,DNS)", err)
		}
	}
	if err := st.AddNIC(dev, func(s string) { fmt.Fprintln(log, s) }); err != nil {
		return err
	}
	if err := st.Configure(cfg); err != nil {
		return err
	}
	if cfg6.Addr.IsValid() {
		if err := st.Configure6(cfg6); err != nil {
			return err
		}
	}
	if len(cfg.DNS) > 0 {
		var b strings.Builder
		for _, d := range cfg.DNS {
			fmt.Fprintf(&b, "nameserver %s\n", d)
		}
		if err := f.writeIfMissing("/etc/resolv.conf", b.String()); err != nil {
			return fmt.Errorf("writing /etc/resolv.conf: %v", err)
		}
	}
	return nil
}

// writeIfMissing creates path with data unless it exists, making its
// directory if needed.
func (f *files) writeIfMissing(path, data string) error {
	dir := path[:strings.LastIndex(path, "/")]
	if err := f.fs.Mkdir(f.f, f.fs.Root(), dir, 0o755); err != nil && err != vfs.EEXIST {
		return err
	}
	file, err := f.fs.Open(f.f, f.fs.Root(), path, linux.OWronly|linux.OCreat|linux.OExcl, 0o644)
	if err == vfs.EEXIST {
		return nil
	}
	if err != nil {
		return err
	}
	defer file.DecRef()
	_, err = file.Write(vfs.BytesBuf([]byte(data)))
	return err
}
