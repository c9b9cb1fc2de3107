// Command procgo starts copies of itself with os/exec and prints what it
// sees: the same natively and inside Cocoon (TestVMProcessesGo). Its
// argument is a scratch directory; "child MODE ..." runs one of the
// children.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
		fmt.Println("FAIL: usage: procgo DIR")
		return
	}
	dir := os.Args[1]
	self, err := os.Executable()
	if err != nil {
		fmt.Println("FAIL: executable:", err)
		return
	}
	p := &parent{self: self, dir: dir}
	p.output()
	p.pipes()
	p.env()
	p.workdir()
	p.failures()
	p.signals()
	p.many()
	fmt.Println("procgo: done")
}

// child is what a started copy does.
func child(mode string, args []string) {
	switch mode {
	case "echo": // its arguments, then exit status 3
		fmt.Printf("%q\n", args)
		os.Exit(3)
	case "exit":
		var code int
		fmt.Sscan(args[0], &code)
		os.Exit(code)
	case "both": // a line to stdout, then one to stderr
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr")
	case "big": // 1 MiB to stdout and 256 KiB to stderr, interleaved
		line := bytes.Repeat([]byte("0123456789abcdef"), 64)
		for i := 0; i < 1024; i++ {
			os.Stdout.Write(line)
			if i%4 == 0 {
				os.Stderr.Write(line)
			}
		}
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "env":
		env := os.Environ()
		sort.Strings(env)
		fmt.Printf("%q\n", env)
	case "getenv":
		fmt.Printf("%q\n", os.Getenv(args[0]))
	case "pwd": // the working directory's base and a file read relative to it
		wd, err := os.Getwd()
		b, rerr := os.ReadFile("marker")
		fmt.Printf("%s %v %q %v\n", filepath.Base(wd), err, b, rerr)
	case "wd":
		wd, _ := os.Getwd()
		fmt.Print(wd)
	case "ppid":
		fmt.Println(os.Getppid())
	case "fd3": // writes to the descriptor ExtraFiles gave it
		f := os.NewFile(3, "extra")
		fmt.Fprintln(f, "through fd 3")
		f.Close()
	case "sleep":
		time.Sleep(time.Hour)
	case "selfkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Hour)
	case "panic":
		panic("boom")
	default:
		fmt.Println("FAIL: unknown child mode", mode)
		os.Exit(1)
	}
}

type parent struct {
	self, dir string
}

func (p *parent) cmd(args ...string) *exec.Cmd {
	return exec.Command(p.self, append([]string{"child"}, args...)...)
}

// clean replaces the scratch directory in s (natively it is not /tmp).
func (p *parent) clean(s string) string { return strings.ReplaceAll(s, p.dir, "DIR") }

func (p *parent) output() {
	out, err := p.cmd("echo", "hello", "", "two words", "ü").Output()
	fmt.Printf("output %q, %v\n", out, err)
	for _, code := range []string{"0", "1", "42", "255"} {
		err := p.cmd("exit", code).Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		fmt.Printf("exit: %v, code %d\n", err, code)
	}
	cmd := p.cmd("ppid")
	out, err = cmd.Output()
	fmt.Printf("ppid is ours: %v %v\n", strings.TrimSpace(string(out)) == fmt.Sprint(os.Getpid()), err)
	fmt.Printf("state pid is the child's: %v, exited %v, success %v\n",
		cmd.ProcessState.Pid() == cmd.Process.Pid, cmd.ProcessState.Exited(), cmd.ProcessState.Success())
}

func (p *parent) pipes() {
	var so, se bytes.Buffer
	cmd := p.cmd("both")
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	fmt.Printf("separate: %q %q %v\n", so.String(), se.String(), err)

	out, err := p.cmd("both").CombinedOutput()
	fmt.Printf("combined: %q %v\n", out, err)

	// Both pipes at once, read concurrently: neither may stall the other.
	cmd = p.cmd("big")
	outp, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Println("FAIL: stdout pipe:", err)
		return
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		fmt.Println("FAIL: stderr pipe:", err)
		return
	}
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	var wg sync.WaitGroup
	var eh [32]byte
	var en int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		h := sha256.New()
		en, _ = io.Copy(h, errp)
		copy(eh[:], h.Sum(nil))
	}()
	h := sha256.New()
	n, _ := io.Copy(h, outp)
	wg.Wait()
	err = cmd.Wait()
	fmt.Printf("big: stdout %d %x, stderr %d %x, %v\n", n, h.Sum(nil)[:8], en, eh[:8], err)

	var buf bytes.Buffer
	cmd = p.cmd("cat")
	in, err := cmd.StdinPipe()
	if err != nil {
		fmt.Println("FAIL: stdin pipe:", err)
		return
	}
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	for i := 0; i < 100; i++ {
		fmt.Fprintf(in, "line %d through the pipe\n", i)
	}
	in.Close()
	err = cmd.Wait()
	fmt.Printf("stdin: %d lines, last %q, %v\n", strings.Count(buf.String(), "\n"), lastLine(buf.String()), err)

	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("FAIL: pipe:", err)
		return
	}
	cmd = p.cmd("fd3")
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	got, _ := io.ReadAll(r)
	r.Close()
	fmt.Printf("extra files: %q %v\n", got, cmd.Wait())
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func (p *parent) env() {
	cmd := p.cmd("env")
	cmd.Env = []string{"A=1", "B=two words", "EMPTY="}
	out, err := cmd.Output()
	fmt.Printf("env: %s %v\n", bytes.TrimSpace(out), err)
	os.Setenv("PROCGO_INHERITED", "yes")
	out, err = p.cmd("getenv", "PROCGO_INHERITED").Output()
	fmt.Printf("inherited: %s %v\n", bytes.TrimSpace(out), err)
}

func (p *parent) workdir() {
	sub := filepath.Join(p.dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		fmt.Println("FAIL: mkdir:", err)
		return
	}
	if err := os.WriteFile(filepath.Join(sub, "marker"), []byte("in sub"), 0o644); err != nil {
		fmt.Println("FAIL: write:", err)
		return
	}
	cmd := p.cmd("pwd")
	cmd.Dir = sub
	out, err := cmd.Output()
	fmt.Printf("dir: %s %v\n", bytes.TrimSpace(out), err)
	for _, d := range []string{sub + "/..", sub + "/../sub/."} {
		cmd = p.cmd("wd")
		cmd.Dir = d
		out, err = cmd.Output()
		fmt.Printf("dir %s: is %s: %v %v\n", p.clean(d), p.clean(filepath.Clean(d)), string(out) == filepath.Clean(d), err)
	}
	// Relative to the parent's working directory.
	if err := os.Chdir(sub); err != nil {
		fmt.Println("FAIL: chdir:", err)
		return
	}
	for _, d := range []string{"..", ".", "../sub"} {
		cmd = p.cmd("wd")
		cmd.Dir = d
		out, err = cmd.Output()
		want := filepath.Join(sub, d)
		fmt.Printf("dir %s from DIR/sub: is %s: %v %v\n", d, p.clean(want), string(out) == want, err)
	}
	if err := os.Chdir("/"); err != nil {
		fmt.Println("FAIL: chdir:", err)
		return
	}
	cmd = p.cmd("pwd")
	cmd.Dir = filepath.Join(p.dir, "missing")
	_, err = cmd.Output()
	fmt.Printf("missing dir: %s\n", p.clean(fmt.Sprint(err)))
}

func (p *parent) failures() {
	_, err := exec.Command("/nonexistent").Output()
	fmt.Println("missing:", err)
	plain := filepath.Join(p.dir, "plain")
	os.WriteFile(plain, []byte("not a program\n"), 0o644)
	garbage := filepath.Join(p.dir, "garbage")
	os.WriteFile(garbage, []byte("\x7fELF but not really"), 0o755)
	noInterp := filepath.Join(p.dir, "script")
	os.WriteFile(noInterp, []byte("#!/no/such/interpreter\n"), 0o755)
	for _, path := range []string{plain, garbage, noInterp, p.dir, filepath.Join(plain, "x")} {
		err := exec.Command(path).Run()
		fmt.Printf("exec %s: %s (ENOENT %v, EACCES %v, ENOEXEC %v, ENOTDIR %v)\n", p.clean(path), p.clean(fmt.Sprint(err)),
			errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.ENOTDIR))
	}
	_, err = exec.LookPath("procgo-no-such-program")
	fmt.Println("lookpath:", err)
}

func (p *parent) signals() {
	cmd := p.cmd("sleep")
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	fmt.Println("kill:", cmd.Process.Kill(), cmd.Wait(), cmd.ProcessState.ExitCode())
	fmt.Println("kill after wait:", cmd.Process.Kill())

	cmd = p.cmd("sleep")
	if err := cmd.Start(); err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	fmt.Println("terminate:", cmd.Process.Signal(syscall.SIGTERM), cmd.Wait())

	fmt.Println("self kill:", p.cmd("selfkill").Run())

	var se bytes.Buffer
	cmd = p.cmd("panic")
	cmd.Stderr = &se
	err := cmd.Run()
	first, _ := bufio.NewReader(&se).ReadString('\n')
	fmt.Printf("panic: %v %q\n", err, first)

	// Cancelled once started, not after a time: on a loaded machine a
	// timeout can pass before the child even starts.
	ctx, cancel := context.WithCancel(context.Background())
	cmd = exec.CommandContext(ctx, p.self, "child", "sleep")
	err = cmd.Start()
	cancel()
	if err != nil {
		fmt.Println("FAIL: start:", err)
		return
	}
	fmt.Println("cancelled:", cmd.Wait(), ctx.Err())
}

// many starts children one after another and several at once.
func (p *parent) many() {
	bad := 0
	for i := 0; i < 25; i++ {
		out, err := p.cmd("echo", fmt.Sprint(i)).Output()
		if string(out) != fmt.Sprintf("[%q]\n", fmt.Sprint(i)) || err == nil || err.Error() != "exit status 3" {
			fmt.Printf("FAIL: sequential %d: %q %v\n", i, out, err)
			bad++
		}
	}
	fmt.Printf("sequential: 25 children, %d wrong\n", bad)

	var mu sync.Mutex
	var wg sync.WaitGroup
	bad = 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				arg := fmt.Sprintf("%d-%d", g, i)
				cmd := p.cmd("cat")
				cmd.Stdin = strings.NewReader(arg)
				out, err := cmd.Output()
				if string(out) != arg || err != nil {
					mu.Lock()
					fmt.Printf("FAIL: concurrent %s: %q %v\n", arg, out, err)
					bad++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("concurrent: 4x5 children, %d wrong\n", bad)

	// Children killed while others start.
	var cmds []*exec.Cmd
	for i := 0; i < 6; i++ {
		cmd := p.cmd("sleep")
		if err := cmd.Start(); err != nil {
			fmt.Println("FAIL: start:", err)
			return
		}
		cmds = append(cmds, cmd)
	}
	killed := 0
	for _, cmd := range cmds {
		cmd.Process.Kill()
		if err := cmd.Wait(); err != nil && err.Error() == "signal: killed" {
			killed++
		}
	}
	fmt.Printf("killed: %d of 6\n", killed)
}
