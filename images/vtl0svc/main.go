// Command vtl0svc is a trusted application for Cocoon's LVBS platform: an
// ordinary Go program that serves the VTL0 kernel through /dev/vtl0
// (docs/LVBS.md, "Application channel"). It holds an Ed25519 key made at
// start, which never leaves VTL1: function 0 returns the public key,
// function 1 signs the request's data, function 2 touches 8 MiB of fresh
// memory and returns how many pages it touched (a test of the VTL
// switch: VTL1 takes page faults while VTL0 waits); any other fails with
// ENOSYS.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
)

// Wire format of /dev/vtl0 (north/vtl0).
const (
	header  = 16
	maxData = 4096
	enosys  = 38
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vtl0svc:", err)
		os.Exit(1)
	}
}

func run() error {
	dev, err := os.OpenFile("/dev/vtl0", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer dev.Close()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	fmt.Printf("vtl0svc: serving VTL0 on /dev/vtl0 (Ed25519 public key %x)\n", pub[:8])
	buf := make([]byte, header+maxData)
	for {
		n, err := dev.Read(buf)
		if err != nil {
			return err
		}
		if n < header {
			return fmt.Errorf("short request of %d bytes", n)
		}
		fn := binary.LittleEndian.Uint32(buf[0:])
		size := binary.LittleEndian.Uint32(buf[4:])
		seq := binary.LittleEndian.Uint64(buf[8:])
		data := buf[header : header+int(size)]
		var status int32
		var reply []byte
		switch fn {
		case 0:
			reply = pub
		case 1:
			reply = ed25519.Sign(priv, data)
		case 2:
			reply = binary.LittleEndian.AppendUint64(nil, touch(8<<20))
		default:
			status = -enosys
		}
		fmt.Printf("vtl0svc: request %d: function %d, %d bytes; status %d, %d bytes back\n", seq, fn, size, status, len(reply))
		out := make([]byte, header+len(reply))
		binary.LittleEndian.PutUint64(out[0:], seq)
		binary.LittleEndian.PutUint32(out[8:], uint32(status))
		binary.LittleEndian.PutUint32(out[12:], uint32(len(reply)))
		copy(out[header:], reply)
		if _, err := dev.Write(out); err != nil {
			return err
		}
	}
}

// touch writes one byte in each page of n fresh bytes and returns how
// many pages it wrote.
func touch(n int) uint64 {
	b := make([]byte, n)
	pages := uint64(0)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
		pages++
	}
	return pages
}
