// Command nettest exercises Cocoon's sockets from an unmodified Go
// program: a net/http server and client over 127.0.0.1 and [::1], UDP
// echo, and an AF_UNIX socket pair passing a file descriptor. Each check
// prints "nettest: NAME: ok" or the error; the last line is "nettest:
// PASS" when all passed, and the exit status is 1 otherwise.
//
// With a network device:
//
//	nettest serve              HTTP on :8080 and UDP echo on :8081 until
//	                           a request for /quit; /fetch?url=URL has
//	                           the guest GET URL and answer its body
//	nettest fetch URL UDPADDR  GET URL and print the body; send a
//	                           datagram to UDPADDR and print the echo
//	nettest fetch6 URL         wait for a link-local and a global IPv6
//	                           address, print them, GET URL over IPv6
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout)) }

func run(args []string, out io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return serve(out)
		case "fetch":
			return fetch(args[1:], out)
		case "fetch6":
			return fetch6(args[1:], out)
		}
	}
	checks := []struct {
		name string
		fn   func() error
	}{
		{"http-ipv4", func() error { return httpRoundTrip("tcp4", "127.0.0.1:0") }},
		{"http-ipv6", func() error { return httpRoundTrip("tcp6", "[::1]:0") }},
		{"udp-echo", udpEcho},
		{"tcp-refused", refused},
		{"tcp-addrinuse", addrInUse},
		{"unix-pass-fd", passFD},
		{"unix-stream-listener", unixListener},
		{"interfaces", interfaces},
	}
	failed := 0
	for _, c := range checks {
		if len(args) > 0 && !contains(args, c.name) {
			continue
		}
		if err := c.fn(); err != nil {
			fmt.Fprintf(out, "nettest: %s: FAIL: %v\n", c.name, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "nettest: %s: ok\n", c.name)
	}
	if failed > 0 {
		fmt.Fprintf(out, "nettest: %d checks failed\n", failed)
		return 1
	}
	fmt.Fprintln(out, "nettest: PASS")
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// httpRoundTrip serves one handler and fetches from it several times,
// with keep-alive connections and a request body.
func httpRoundTrip(network, addr string) error {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "hello %s %d", r.URL.Path, len(body))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	for i := 0; i < 5; i++ {
		body := strings.Repeat("x", i*100000)
		resp, err := http.Post(url+"/p"+fmt.Sprint(i), "text/plain", strings.NewReader(body))
		if err != nil {
			return err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("hello /p%d %d", i, len(body)); string(got) != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
	}
	return nil
}

func udpEcho() error {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	c, err := net.Dial("udp", srv.LocalAddr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{"ping", "second datagram"} {
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) != strings.ToUpper(msg) {
			return fmt.Errorf("echo %q, want %q", buf[:n], strings.ToUpper(msg))
		}
	}
	return nil
}

func refused() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = net.Dial("tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	return nil
}

func addrInUse() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	_, err = net.Listen("tcp", ln.Addr().String())
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("second listen: %v, want EADDRINUSE", err)
	}
	return nil
}

// passFD sends a pipe's read end over a socket pair and reads what was
// written into the pipe through the received descriptor.
func passFD() error {
	sv, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(sv[0])
	defer syscall.Close(sv[1])
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return err
	}
	rights := syscall.UnixRights(p[0])
	if err := syscall.Sendmsg(sv[0], []byte("fd"), rights, nil, 0); err != nil {
		return err
	}
	syscall.Close(p[0])
	if _, err := syscall.Write(p[1], []byte("through the passed fd")); err != nil {
		return err
	}
	syscall.Close(p[1])
	buf := make([]byte, 10)
	oob := make([]byte, syscall.CmsgSpace(4))
	n, oobn, _, _, err := syscall.Recvmsg(sv[1], buf, oob, 0)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "fd" {
		return fmt.Errorf("data %q", buf[:n])
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("control messages %v: %v", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("rights %v: %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "passed")
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if string(got) != "through the passed fd" {
		return fmt.Errorf("read %q through the passed fd", got)
	}
	return nil
}

func unixListener() error {
	path := "/tmp/nettest.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("over a path")); err != nil {
		return err
	}
	c.(*net.UnixConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != "over a path" {
		return fmt.Errorf("echo %q", got)
	}
	return nil
}

// serve answers HTTP on :8080 ("hello from cocoon PATH") and echoes UDP
// on :8081 in upper case, until a request for /quit.
func serve(out io.Writer) int {
	quit := make(chan struct{})
	pc, err := net.ListenPacket("udp", ":8081")
	if err != nil {
		fmt.Fprintf(out, "nettest: udp: %v\n", err)
		return 1
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Fprintf(out, "nettest: listen: %v\n", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from cocoon %s", r.URL.Path)
	})
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		c := &http.Client{Timeout: time.Minute}
		resp, err := c.Get(r.URL.Query().Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		fmt.Fprint(w, "guest fetched: ")
		io.Copy(w, resp.Body)
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "bye")
		close(quit)
	})
	go http.Serve(ln, mux)
	fmt.Fprintln(out, "nettest: serving")
	<-quit
	time.Sleep(100 * time.Millisecond) // let the answer to /quit go out
	fmt.Fprintln(out, "nettest: PASS")
	return 0
}

// fetch GETs args[0] and sends a datagram to args[1].
func fetch(args []string, out io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(out, "usage: nettest fetch URL UDPADDR")
		return 2
	}
	resp, err := http.Get(args[0])
	if err != nil {
		fmt.Fprintf(out, "nettest: fetch: %v\n", err)
		return 1
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Fprintf(out, "nettest: fetch: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "nettest: fetched %q\n", body)
	c, err := net.Dial("udp", args[1])
	if err != nil {
		fmt.Fprintf(out, "nettest: udp: %v\n", err)
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("datagram from cocoon")); err != nil {
		fmt.Fprintf(out, "nettest: udp: %v\n", err)
		return 1
	}
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil {
		fmt.Fprintf(out, "nettest: udp: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "nettest: udp echo %q\n", buf[:n])
	fmt.Fprintln(out, "nettest: PASS")
	return 0
}

// interfaces checks net.Interfaces (NETLINK_ROUTE dumps): lo is up, a
// loopback, and has 127.0.0.1.
func interfaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, ifc := range ifs {
		if ifc.Name != "lo" {
			continue
		}
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("lo flags %v", ifc.Flags)
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.String() == "127.0.0.1/8" {
				return nil
			}
		}
		return fmt.Errorf("lo addresses %v lack 127.0.0.1/8", addrs)
	}
	return fmt.Errorf("no lo among %v", ifs)
}

// fetch6 waits (up to two minutes: router advertisements and duplicate
// address detection take seconds) for eth0 to have a link-local and a
// global IPv6 address, prints them, and GETs args[0] over tcp6.
func fetch6(args []string, out io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(out, "usage: nettest fetch6 URL")
		return 2
	}
	var local, global net.IP
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end) && global == nil; time.Sleep(100 * time.Millisecond) {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			fmt.Fprintf(out, "nettest: eth0: %v\n", err)
			return 1
		}
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			ip, _, _ := net.ParseCIDR(a.String())
			switch {
			case ip == nil || ip.To4() != nil:
			case ip.IsLinkLocalUnicast():
				local = ip
			case local != nil && ip.IsGlobalUnicast():
				global = ip
			}
		}
	}
	if global == nil {
		fmt.Fprintf(out, "nettest: no global IPv6 address (link-local %v)\n", local)
		return 1
	}
	fmt.Fprintf(out, "nettest: ipv6 link-local %v global %v\n", local, global)
	c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}, Timeout: time.Minute}
	resp, err := c.Get(args[0])
	if err != nil {
		fmt.Fprintf(out, "nettest: fetch6: %v\n", err)
		return 1
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Fprintf(out, "nettest: fetch6: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "nettest: fetched6 %q\n", body)
	fmt.Fprintln(out, "nettest: PASS")
	return 0
}
