// Command selftest is a Cocoon kernel whose main exercises the kernel's
// own Go runtime: goroutines, channels, the garbage collector, timers,
// panics and exit statuses. The QEMU integration tests (kernel/vm_test.go)
// boot it and read the console. The first argument (kernel command line)
// picks the test: hello, goroutines, gc, sleep, wx, all, panic, exit N.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	_ "github.com/cocoon-vm/cocoon/boot"
	"github.com/cocoon-vm/cocoon/kernel"
)

func main() {
	fmt.Println("selftest: main reached")
	if len(os.Args) < 2 {
		fmt.Println("selftest: usage: selftest hello|goroutines|gc|sleep|wx|all|panic|exit N")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "hello":
		hello()
	case "goroutines":
		goroutines()
	case "gc":
		gc()
	case "sleep":
		sleep()
	case "wx":
		wx()
	case "all":
		hello()
		goroutines()
		gc()
		sleep()
		threads()
		wx()
	case "panic":
		panic("selftest: deliberate panic")
	case "exit":
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Println("selftest: exit needs a number:", err)
			os.Exit(64)
		}
		os.Exit(n)
	default:
		fmt.Println("selftest: unknown test", os.Args[1])
		os.Exit(64)
	}
	fmt.Println("selftest: PASS")
}

func hello() {
	var env []string
	for _, e := range os.Environ() {
		if e != kernel.RuntimeGodebug { // the kernel runtime's own
			env = append(env, e)
		}
	}
	fmt.Printf("hello: args=%q env=%q platform=%s\n", os.Args, env, kernel.Stats().Platform)
}

// goroutines passes messages around a ring of 10,000 goroutines.
func goroutines() {
	const n, rounds = 10000, 3
	first := make(chan int)
	in := first
	for i := 0; i < n; i++ {
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	total := 0
	for r := 0; r < rounds; r++ {
		first <- 0
		total += <-in
	}
	close(first)
	if total != n*rounds {
		fail("goroutines: ring total %d, want %d", total, n*rounds)
	}
	fmt.Printf("goroutines: ok: %d goroutines passed %d messages\n", n, total)
}

// gc allocates more than 8 times the machine's RAM in short-lived blocks,
// which cannot succeed unless the collector frees memory, and checks that
// at least 50 collections ran. How many cycles the allocation alone
// triggers depends on timing (concurrent marking lets the heap grow while
// it runs, so a loaded host sees fewer), so it then keeps allocating with
// an explicit runtime.GC every 64 MiB until 50 have run: the count checked
// is the runtime's, whatever started each cycle.
func gc() {
	ram := kernel.Stats().RAM
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	target := 8*ram + ram/2
	var keep [][]byte
	var allocated uint64
	now := before // NumGC-before.NumGC is unsigned: start from before, not zero
	for allocated < target || now.NumGC-before.NumGC < 50 {
		if allocated >= target && allocated%(64<<20) == 0 {
			runtime.GC()
			runtime.ReadMemStats(&now)
		}
		b := make([]byte, 256<<10)
		b[0], b[len(b)-1] = 1, 1
		allocated += uint64(len(b))
		keep = append(keep, b)
		if len(keep) > 16 {
			keep = keep[1:]
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	fmt.Printf("gc: allocated %d MiB with %d MiB of RAM, %d GC cycles, heap in use %d MiB\n",
		allocated>>20, ram>>20, cycles, after.HeapInuse>>20)
	if cycles < 50 {
		fail("gc: only %d GC cycles", cycles)
	}
	fmt.Println("gc: ok")
}

// sleep checks that time.Sleep never returns early and that the monotonic
// clock never goes backwards, from several goroutines at once.
func sleep() {
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for _, d := range []time.Duration{time.Microsecond, 100 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 20 * time.Millisecond} {
				start := time.Now()
				time.Sleep(d)
				if got := time.Since(start); got < d {
					errs <- fmt.Sprintf("Sleep(%v) returned after %v", d, got)
				}
			}
			last := time.Now()
			for i := 0; i < 20000; i++ {
				now := time.Now()
				if now.Before(last) {
					errs <- fmt.Sprintf("monotonic time went back from %v to %v", last, now)
					return
				}
				last = now
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		fail("sleep: %s", e)
	}
	// Timers never fire early. (Their callbacks run in goroutines of
	// their own, so the order they run in is not guaranteed.)
	var tw sync.WaitGroup
	early := make(chan string, 5)
	start := time.Now()
	for i := 5; i >= 1; i-- {
		d := time.Duration(i) * 2 * time.Millisecond
		tw.Add(1)
		time.AfterFunc(d, func() {
			if got := time.Since(start); got < d {
				early <- fmt.Sprintf("AfterFunc(%v) fired after %v", d, got)
			}
			tw.Done()
		})
	}
	tw.Wait()
	close(early)
	for e := range early {
		fail("sleep: %s", e)
	}
	fmt.Printf("sleep: ok: wall clock %s\n", time.Now().UTC().Format(time.RFC3339))
}

func threads() {
	s := kernel.Stats()
	fmt.Printf("threads: %d kernel threads alive, %d created, %d system calls, uptime %v\n",
		s.Threads, s.ThreadsCreated, s.Syscalls, time.Duration(s.Uptime))
	if s.ThreadsCreated < 2 {
		fail("threads: only %d runtime threads were created", s.ThreadsCreated)
	}
}

func fail(format string, args ...any) {
	fmt.Printf("selftest: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// wx walks the kernel half of the live page tables and checks W^X: no
// page both writable and executable, the image's text read-only, its
// other pages and the direct map non-executable, the vDSO's code page
// (which this runtime calls) executable.
func wx() {
	r := kernel.CheckWX()
	fmt.Printf("wx: %d text, %d read-only, %d data, %d other pages; %d writable+executable, %d writable text, %d executable data, %d executable other; vDSO executable %v\n",
		r.Text, r.ReadOnly, r.Data, r.Other, r.WritableExec, r.TextWritable, r.DataExec, r.OtherExec, r.VDSOExec)
	if r.Text == 0 || r.ReadOnly == 0 || r.Data == 0 || r.Other == 0 {
		fmt.Println("wx: FAIL: a kind of page is missing from the kernel's tables")
		os.Exit(1)
	}
	if r.WritableExec != 0 || r.TextWritable != 0 || r.DataExec != 0 || r.OtherExec != 0 || !r.VDSOExec {
		fmt.Println("wx: FAIL: W^X does not hold")
		os.Exit(1)
	}
	fmt.Println("wx: ok")
}
