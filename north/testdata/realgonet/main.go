// Command realgonet is a small service as Go programs write them:
// os/signal, os/exec and net together. It listens on TCP, UDP and a Unix
// socket, starts copies of itself that talk to it, hands a listener to a
// child, and shuts an HTTP server down on SIGTERM from a child. The
// output is the same natively and inside Cocoon (TestVMRealGoNet). Its
// argument is a scratch directory; "child MODE ..." runs one of the
// children.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "child" {
		child(os.Args[2], os.Args[3:])
		return
	}
	if len(os.Args) != 2 {
		fmt.Println("FAIL: usage: realgonet DIR")
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Println("FAIL: executable:", err)
		return
	}
	// A program started with SIGINT ignored (a background job of a
	// shell) keeps it ignored, and so would its children: caught here,
	// it is the default in every child, wherever this one was started.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	p := &parent{self: self, dir: os.Args[1]}
	p.clients()
	p.handOff()
	p.notify()
	p.shutdown()
	p.groups()
	p.deadlines()
	localhost()
	accounts()
	fmt.Println("realgonet: done")
}

type parent struct{ self, dir string }

func (p *parent) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(p.self, append([]string{"child"}, args...)...)
	cmd.Stderr = os.Stdout
	return cmd
}

// child runs one child mode.
func child(mode string, args []string) {
	switch mode {
	case "tcp", "unix":
		// Dial the parent's listener, send a line, print the reply.
		c, err := net.Dial(mode, args[0])
		if err != nil {
			fmt.Println("FAIL: child dial:", err)
			os.Exit(1)
		}
		fmt.Fprintf(c, "hello from %s child\n", mode)
		c.(interface{ CloseWrite() error }).CloseWrite()
		reply, err := io.ReadAll(c)
		fmt.Printf("%s child got %q %v\n", mode, reply, err)
	case "udp":
		c, err := net.Dial("udp", args[0])
		if err != nil {
			fmt.Println("FAIL: child dial udp:", err)
			os.Exit(1)
		}
		c.Write([]byte("datagram"))
		b := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := c.Read(b)
		fmt.Printf("udp child got %q %v\n", b[:n], err)
	case "serve":
		// Serve on the listener handed down as fd 3 until the
		// parent closes its connection.
		l, err := net.FileListener(os.NewFile(3, "listener"))
		if err != nil {
			fmt.Println("FAIL: FileListener:", err)
			os.Exit(1)
		}
		fmt.Println("serve child: listener", l.Addr().Network())
		c, err := l.Accept()
		if err != nil {
			fmt.Println("FAIL: accept:", err)
			os.Exit(1)
		}
		io.Copy(c, strings.NewReader("served by the child\n"))
		c.Close()
	case "kill":
		// Send the signals named by args to the parent, in order,
		// each after the parent has acknowledged the last on stdin.
		in := bufio.NewScanner(os.Stdin)
		for _, a := range args {
			sig := map[string]syscall.Signal{"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "TERM": syscall.SIGTERM, "INT": syscall.SIGINT}[a]
			syscall.Kill(os.Getppid(), sig)
			if !in.Scan() {
				return
			}
		}
	case "sigign":
		// What the child inherited: an ignored SIGHUP stays ignored
		// through execve and the Go runtime's start (SigIgn bit 0).
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigIgn:\t"); ok {
				fmt.Println("child SIGHUP ignored:", strings.HasSuffix(v, "1") || strings.HasSuffix(v, "3") || strings.HasSuffix(v, "5") || strings.HasSuffix(v, "7") || strings.HasSuffix(v, "9") || strings.HasSuffix(v, "b") || strings.HasSuffix(v, "d") || strings.HasSuffix(v, "f"))
			}
		}
	case "trap":
		// Catch SIGTERM, print, exit 7; SIGINT kills.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		s := <-ch
		fmt.Println("trap child got", s)
		os.Exit(7)
	case "sleep":
		time.Sleep(time.Minute)
	case "http":
		resp, err := http.Get("http://" + args[0] + "/hello")
		if err != nil {
			fmt.Println("FAIL: http get:", err)
			os.Exit(1)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("http child: %s %q\n", resp.Status, b)
		syscall.Kill(os.Getppid(), syscall.SIGTERM)
	default:
		fmt.Println("FAIL: unknown child mode", mode)
		os.Exit(2)
	}
}

// clients: children dial the parent's TCP, Unix and UDP sockets; the
// parent serves each on its own goroutine and waits for the children.
func (p *parent) clients() {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL: listen tcp:", err)
		return
	}
	defer tl.Close()
	sock := filepath.Join(p.dir, "s.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println("FAIL: listen unix:", err)
		return
	}
	defer ul.Close()
	uc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL: listen udp:", err)
		return
	}
	defer uc.Close()
	var wg sync.WaitGroup
	serve := func(l net.Listener) {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			fmt.Println("FAIL: accept:", err)
			return
		}
		defer c.Close()
		line, _ := io.ReadAll(c)
		fmt.Fprintf(c, "echo %s", line)
	}
	wg.Add(3)
	go serve(tl)
	go serve(ul)
	go func() {
		defer wg.Done()
		b := make([]byte, 64)
		n, from, err := uc.ReadFrom(b)
		if err != nil {
			fmt.Println("FAIL: udp read:", err)
			return
		}
		uc.WriteTo(append([]byte("re: "), b[:n]...), from)
	}()
	var outs [3][]byte
	var cw sync.WaitGroup
	for i, c := range [][]string{{"tcp", tl.Addr().String()}, {"unix", sock}, {"udp", uc.LocalAddr().String()}} {
		cw.Add(1)
		go func() {
			defer cw.Done()
			out, err := p.cmd(c...).Output()
			outs[i] = append(out, fmt.Sprintf("%s child exit: %v\n", c[0], err)...)
		}()
	}
	cw.Wait()
	wg.Wait()
	for _, o := range outs {
		fmt.Print(string(o))
	}
	fi, err := os.Stat(sock)
	if err == nil {
		fmt.Println("socket file:", fi.Mode().Type()&os.ModeSocket != 0)
	}
	ul.Close()
	_, err = os.Stat(sock)
	fmt.Println("after Close the socket file is gone:", errors.Is(err, os.ErrNotExist))
}

// handOff gives a listening TCP socket to a child as fd 3 (ExtraFiles);
// the parent dials it and reads what the child serves.
func (p *parent) handOff() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL: listen:", err)
		return
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		fmt.Println("FAIL: File:", err)
		return
	}
	addr := l.Addr().String()
	l.Close() // the child's copy stays open
	cmd := p.cmd("serve")
	cmd.Stdout = os.Stdout
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	f.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Println("FAIL: dial the child's listener:", err)
		return
	}
	b, err := io.ReadAll(c)
	c.Close()
	fmt.Printf("from the child's listener: %q %v\n", b, err)
	fmt.Println("serve child exit:", cmd.Wait())
	_, err = net.Dial("tcp", addr)
	fmt.Println("dial after the child exited refused:", errors.Is(err, syscall.ECONNREFUSED))
}

// notify: signal.Notify on a channel, signals from a child in order,
// Ignore inherited by a child, Stop and Reset, a child's own handler.
func (p *parent) notify() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	cmd := p.cmd("kill", "HUP", "USR1", "USR2")
	in, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	for i := 0; i < 3; i++ {
		fmt.Println("parent got", <-ch)
		fmt.Fprintln(in, "ok")
	}
	in.Close()
	fmt.Println("kill child exit:", cmd.Wait())
	signal.Stop(ch)

	signal.Ignore(syscall.SIGHUP, syscall.SIGUSR2)
	fmt.Println("ignored:", signal.Ignored(syscall.SIGHUP), signal.Ignored(syscall.SIGUSR1))
	out, err := p.cmd("sigign").Output()
	fmt.Printf("%sexit: %v\n", out, err)
	// Reset restores the dispositions the program started with, which
	// are its parent's: nothing here depends on them.
	signal.Reset(syscall.SIGHUP, syscall.SIGUSR2)

	cmd = p.cmd("trap")
	r, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	br := bufio.NewReader(r)
	ready, _ := br.ReadString('\n')
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(br)
	err = cmd.Wait()
	fmt.Printf("trap child: %q %q %v %d\n", ready, rest, err, cmd.ProcessState.ExitCode())

	cmd = p.cmd("trap")
	r, _ = cmd.StdoutPipe()
	cmd.Start()
	bufio.NewReader(r).ReadString('\n')
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	fmt.Println("SIGINT to the trap child:", err, ws.Signaled(), ws.Signal())
}

// shutdown: an HTTP server on the loopback; a child fetches a page and
// sends SIGTERM; signal.NotifyContext ends the context and the server
// shuts down gracefully.
func (p *parent) shutdown() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL: listen:", err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "fixed")
		fmt.Fprintf(w, "hello %s %s", r.Method, r.URL.Path)
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	cmd := p.cmd("http", l.Addr().String())
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	<-ctx.Done()
	fmt.Println("context:", ctx.Err(), context.Cause(ctx))
	fmt.Println("shutdown:", srv.Shutdown(context.Background()))
	fmt.Println("serve:", <-done)
	fmt.Println("http child exit:", cmd.Wait())
}

// groups: a child in its own process group (Setpgid) and session
// (Setsid), killed by its group; CommandContext with Cancel sending
// SIGTERM, and WaitDelay.
func (p *parent) groups() {
	cmd := p.cmd("sleep")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	pgid, _ := syscall.Getpgid(cmd.Process.Pid)
	fmt.Println("own group:", pgid == cmd.Process.Pid, pgid != syscall.Getpgrp())
	fmt.Println("kill group:", syscall.Kill(-pgid, syscall.SIGKILL), cmd.Wait())

	cmd = p.cmd("sleep")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Start()
	sid, _ := getsid(cmd.Process.Pid)
	fmt.Println("own session:", sid == cmd.Process.Pid)
	cmd.Process.Kill()
	fmt.Println("session child:", cmd.Wait())

	ctx, cancel := context.WithCancel(context.Background())
	cmd = exec.CommandContext(ctx, p.self, "child", "trap")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	r, _ := cmd.StdoutPipe()
	cmd.Start()
	br := bufio.NewReader(r)
	br.ReadString('\n')
	cancel()
	rest, _ := io.ReadAll(br)
	fmt.Printf("cancelled with SIGTERM: %q %v\n", rest, cmd.Wait())

	_, err := exec.Command(filepath.Join(p.dir, "missing")).Output()
	fmt.Println("missing program:", errors.Is(err, os.ErrNotExist))
	_, err = exec.LookPath("no-such-program-here")
	fmt.Println("LookPath:", errors.Is(err, exec.ErrNotFound))
}

func getsid(pid int) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// deadlines: read deadlines on TCP and UDP, a refused dial, a write to a
// closed peer (EPIPE, not death: Go ignores SIGPIPE on sockets), and a
// closed listener's Accept.
func (p *parent) deadlines() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL: listen:", err)
		return
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			buf := make([]byte, 1)
			c.Read(buf) // the client's close
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println("FAIL: dial:", err)
		return
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	fmt.Println("tcp read deadline:", errors.Is(err, os.ErrDeadlineExceeded))
	c.(*net.TCPConn).CloseWrite()
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = c.Write([]byte("x"))
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("write after the peer closed:", errors.Is(werr, syscall.EPIPE) || errors.Is(werr, syscall.ECONNRESET))
	c.Close()

	u, _ := net.ListenPacket("udp", "127.0.0.1:0")
	u.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, _, err = u.ReadFrom(make([]byte, 1))
	fmt.Println("udp read deadline:", errors.Is(err, os.ErrDeadlineExceeded))
	u.Close()

	addr := l.Addr().String()
	l.Close()
	_, err = l.Accept()
	fmt.Println("accept after close:", errors.Is(err, net.ErrClosed))
	_, err = net.Dial("tcp", addr)
	fmt.Println("dial closed port:", errors.Is(err, syscall.ECONNREFUSED))
	_, err = net.Dial("unix", filepath.Join(p.dir, "nothing.sock"))
	fmt.Println("dial missing unix socket:", errors.Is(err, os.ErrNotExist))
}

// localhost listens on and dials localhost:PORT, as servers' default
// addresses do: the name comes from /etc/hosts (Go asks DNS otherwise).
func localhost() {
	addrs, err := net.LookupHost("localhost")
	loopback := err == nil && len(addrs) > 0
	for _, a := range addrs {
		ip := net.ParseIP(a)
		loopback = loopback && ip != nil && ip.IsLoopback()
	}
	fmt.Println("localhost resolves to loopback only:", loopback, err)
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		fmt.Println("FAIL: listen localhost:", err)
		return
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := net.Dial("tcp", net.JoinHostPort("localhost", port))
	if err != nil {
		fmt.Println("FAIL: dial localhost:", err)
		return
	}
	b, err := io.ReadAll(c)
	c.Close()
	fmt.Printf("localhost: read %q %v\n", b, err)
}

// accounts looks users and groups up as services do (os/user, without
// cgo: /etc/passwd and /etc/group): the user it runs as, its group, and
// nobody, whom a service drops privileges to.
func accounts() {
	u, err := user.Current()
	fmt.Println("user.Current is getuid's:", err == nil && u.Uid == strconv.Itoa(os.Getuid()) && u.Username != "", err)
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	fmt.Println("getgid's group found:", err == nil && g.Name != "", err)
	n, err := user.Lookup("nobody")
	fmt.Println("nobody:", n != nil && n.Uid == "65534", err)
}
