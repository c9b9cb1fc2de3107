package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/conformance/report"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// errUsage means the command line was wrong; the usage is already printed.
var errUsage = errors.New("usage")

// DefaultPackages are run when no package is named: the list issue 8
// started with, more packages whose tests need no network, and the
// network's (sockets inside the guest, loopback only).
var DefaultPackages = []string{
	"bufio", "bytes", "container/list", "context", "crypto/aes",
	"crypto/ecdsa", "crypto/sha256", "encoding/binary", "encoding/json",
	"errors", "fmt", "hash/crc32", "io", "math", "math/big", "os",
	"path/filepath", "sort", "strconv", "strings", "sync", "sync/atomic",
	"time", "unicode/utf8",

	"archive/tar", "archive/zip", "compress/gzip", "crypto/rand",
	"crypto/sha512", "encoding/gob", "hash/maphash", "io/fs", "io/ioutil",
	"log", "maps", "math/rand/v2", "os/exec", "os/signal", "os/user", "path", "regexp",
	"slices", "syscall", "testing/fstest", "text/template", "unicode",

	"net", "net/http", "net/rpc", "net/textproto", "crypto/tls",

	// Packages whose tests map memory: files (cmd/go's mmap), guard pages
	// (crypto/subtle, crypto/sha1), faults on unmapped memory
	// (runtime/debug's SetPanicOnFault).
	"cmd/go/internal/mmap", "crypto/sha1", "crypto/subtle", "runtime/debug",
}

// options are the command's flags.
type options struct {
	out      string
	jobs     int
	timeout  time.Duration
	short    bool
	run      string
	memory   int
	trace    bool
	host     bool
	docs     docFlags
	module   string
	from     string
	packages []string
}

// docFlags are the -doc files.
type docFlags []string

func (d *docFlags) String() string     { return strings.Join(*d, ",") }
func (d *docFlags) Set(v string) error { *d = append(*d, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "o", "out", "write conformance.json and conformance.md to `DIR`, work files to DIR/conformance")
	fs.IntVar(&o.jobs, "j", runtime.NumCPU(), "run `N` packages at a time")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "kill a package's run after `DURATION` (its -test.timeout is 90% of it)")
	fs.BoolVar(&o.short, "short", true, "pass -test.short")
	fs.StringVar(&o.run, "run", "", "pass -test.run `REGEXP`")
	fs.IntVar(&o.memory, "m", 1024, "guest RAM in `MiB`")
	fs.BoolVar(&o.trace, "trace", false, "boot with cocoon.trace=syscalls (the trace goes to the package's log)")
	fs.BoolVar(&o.host, "host", true, "also run the test binaries natively on the host, for the reference column")
	fs.StringVar(&o.module, "C", "", "list and build the packages in the Go module at `DIR` (default: this repository), for packages outside the standard library such as tools/conformance/thirdparty's")
	fs.StringVar(&o.from, "from", "", "do not run: write the tables from an earlier run's conformance.json `FILE`, its tests compared again with the known differences of this source and its Cocoon logs read again")
	fs.Var(&o.docs, "doc", "also replace the conformance section (between the report package's markers) of the Markdown `FILE` with the table; repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: conformance [flags] [PACKAGE...]

Runs each PACKAGE's tests (default: %s) inside Cocoon
under QEMU and natively on the host, and prints a table of passed, failed
and skipped tests for both. Exits with status 1 if a test that passes on
the host does not pass inside Cocoon and the difference is not a known one.

Flags:
`, strings.Join(DefaultPackages, " "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, nil
		}
		return nil, errUsage
	}
	o.packages = fs.Args()
	if len(o.packages) == 0 {
		o.packages = DefaultPackages
	}
	if o.jobs < 1 || o.timeout <= 0 || o.memory <= 0 {
		fmt.Fprintln(stderr, "conformance: -j, -timeout and -m must be positive")
		return nil, errUsage
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if o == nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	repo, err := moduleRoot()
	if err != nil {
		return err
	}
	var rep *report.Report
	if o.from != "" {
		if rep, err = reread(o.from); err != nil {
			return err
		}
	} else {
		r := &runner{options: o, repo: repo, modDir: repo, work: filepath.Join(o.out, "conformance"), progress: stderr}
		if o.module != "" {
			if r.modDir, err = filepath.Abs(o.module); err != nil {
				return err
			}
		}
		if err := r.prepare(ctx); err != nil {
			return err
		}
		if rep, err = r.runAll(ctx); err != nil {
			return err
		}
	}

	fmt.Fprintln(stdout)
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	jsonPath, mdPath := filepath.Join(o.out, "conformance.json"), filepath.Join(o.out, "conformance.md")
	if err := writeFile(jsonPath, rep.WriteJSON); err != nil {
		return err
	}
	if err := writeFile(mdPath, rep.WriteMarkdown); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s and %s; logs in %s\n", jsonPath, mdPath, filepath.Join(o.out, "conformance", "logs"))
	for _, doc := range o.docs {
		if err := rep.UpdateDoc(doc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s\n", doc)
	}
	var unseen []string
	for _, p := range rep.Packages {
		if p.Host == nil {
			continue
		}
		if u := unseenKnown(p.Path, p.Differences); len(u) > 0 {
			unseen = append(unseen, p.Path+" "+strings.Join(u, " "))
		}
	}
	if len(unseen) > 0 {
		fmt.Fprintf(stderr, "conformance: known differences this run did not see (they pass inside Cocoon now, or did not run here: "+
			"-run, -short, a flaky test); remove those that no longer apply from tools/conformance/known.go:\n  %s\n",
			strings.Join(unseen, "\n  "))
	}
	var differ []string
	for i := range rep.Packages {
		if !rep.Packages[i].Conforms() {
			differ = append(differ, rep.Packages[i].Path)
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%d of %d packages differ from the host without a known reason: %s (see %s)",
			len(differ), len(rep.Packages), strings.Join(differ, " "), mdPath)
	}
	return nil
}

// reread reads the report of an earlier run from the conformance.json
// at path and brings it up to date with this source: each package's
// differences compared again with the known ones, and the refused and
// unimplemented calls read again from the Cocoon log where it is still
// there (so a change of known.go or of how the logs are read needs no new
// run of the tests).
func reread(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range rep.Packages {
		p := &rep.Packages[i]
		if c := p.Cocoon; c != nil && c.Log != "" {
			if b, err := os.ReadFile(c.Log); err == nil {
				c.Unimplemented, c.Refused = unimplemented(string(b))
			}
		}
		if p.Host != nil && p.Cocoon != nil {
			p.Differences = report.Compare(p.Host.Tests, p.Cocoon.Tests, func(test string) string {
				return knownReason(p.Path, test)
			})
		}
	}
	return rep, nil
}

// writeFile writes path with write.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// moduleRoot finds Cocoon's module directory from the working directory
// up, where the kernel is built.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/cocoon-vm/cocoon\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside Cocoon's source tree: run conformance from the repository (make conformance)", dir)
		}
	}
}

// runner runs packages: it holds what every package shares.
type runner struct {
	*options
	repo     string // Cocoon's module directory
	modDir   string // the module whose packages are listed and built
	modCache string // GOMODCACHE
	work     string // work files: binaries, images, logs
	goroot   string
	goVer    string
	kernel   string          // the Cocoon kernel image
	base     []appimage.File // files every image has
	flags    []string        // the test binaries' arguments
	progress io.Writer

	mu   sync.Mutex // guards done and writes to progress
	done int
}

// prepare builds the kernel and the files all images share.
func (r *runner) prepare(ctx context.Context) error {
	for _, d := range []string{"bin", "img", "logs", overlayDir, "etc", "usr"} {
		if err := os.MkdirAll(filepath.Join(r.work, d), 0o755); err != nil {
			return err
		}
	}
	var err error
	if r.goroot, err = goEnv(ctx, "GOROOT"); err != nil {
		return err
	}
	if r.goVer, err = goEnv(ctx, "GOVERSION"); err != nil {
		return err
	}
	if r.modCache, err = goEnv(ctx, "GOMODCACHE"); err != nil {
		return err
	}
	if r.base, err = baseFiles(ctx, r.work, r.goroot); err != nil {
		return err
	}
	r.flags = []string{"-test.v", "-test.paniconexit0", "-test.timeout", (r.timeout * 9 / 10).String()}
	if r.short {
		r.flags = append(r.flags, "-test.short")
	}
	if r.run != "" {
		r.flags = append(r.flags, "-test.run", r.run)
	}
	r.kernel = filepath.Join(r.work, "cocoon.elf")
	fmt.Fprintf(r.progress, "conformance: building the kernel (%s)\n", r.kernel)
	if err := kbuild.Kernel(ctx, "./north/cocoon", r.kernel, kbuild.Options{Dir: r.repo}); err != nil {
		return err
	}
	r.kernel, err = filepath.Abs(r.kernel)
	return err
}

// runAll runs every package, r.jobs at a time, printing a line as each
// finishes.
func (r *runner) runAll(ctx context.Context) (*report.Report, error) {
	pkgs, err := listPackages(ctx, r.modDir, r.packages)
	if err != nil {
		return nil, err
	}
	rep := &report.Report{Go: r.goVer, Flags: r.flags, Packages: make([]report.Package, len(pkgs))}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(r.jobs, len(pkgs)) {
		wg.Go(func() {
			for i := range jobs {
				rep.Packages[i] = r.runPackage(ctx, pkgs[i])
				r.report(&rep.Packages[i], len(pkgs))
			}
		})
	}
	for i := range pkgs {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rep, nil
}

// report prints the progress line of a finished package.
func (r *runner) report(p *report.Package, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	side := func(name string, run *report.Run) string {
		if run == nil {
			return ""
		}
		s := fmt.Sprintf("  %s %d/%d/%d %.1fs", name, run.Passed, run.Failed+run.Incomplete, run.Skipped, run.WallSeconds)
		if run.Status != report.OK {
			s += " " + string(run.Status)
		}
		return s
	}
	fmt.Fprintf(r.progress, "[%*d/%d] %-16s%s%s  => %s\n", len(fmt.Sprint(total)), r.done, total, p.Path,
		side("Cocoon", p.Cocoon), side("host", p.Host), p.Verdict())
}
