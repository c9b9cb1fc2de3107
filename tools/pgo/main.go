// Command pgo turns the kernel's sampling-profiler output into a pprof CPU
// profile that `go build` reads for profile-guided optimisation
// (north/cocoon/default.pgo).
//
// The kernel booted with cocoon.prof=PERIOD_US prints one console line per
// sample:
//
//	PROF <pc> <return address> <return address> ...
//
// in hexadecimal, the interrupted kernel instruction first, then the return
// addresses of its callers from the frame-pointer chain. A first address
// with bit 63 set is a sample taken in user mode and is dropped (the
// application is not the kernel's to optimise).
//
// Usage:
//
//	pgo [-drop REGEXP] [-period US] -o default.pgo KERNEL.elf CONSOLE...
//
// Addresses are symbolized with the kernel ELF's DWARF: every location
// carries its inline stack (DW_TAG_inlined_subroutine), and every function
// its start line (DW_AT_decl_line), which PGO needs to key call sites.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

func main() {
	out := flag.String("o", "default.pgo", "output profile")
	drop := flag.String("drop", "", "drop samples whose leaf function matches this regular expression (the idle loop)")
	period := flag.Int64("period", 20, "sampling period in microseconds (scales the cpu/nanoseconds values)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: pgo [-drop REGEXP] [-period US] -o OUT KERNEL.elf CONSOLE...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 2 {
		flag.Usage()
		os.Exit(2)
	}
	var re *regexp.Regexp
	if *drop != "" {
		var err error
		if re, err = regexp.Compile(*drop); err != nil {
			fatal(err)
		}
	}
	var stacks [][]uint64
	for _, name := range flag.Args()[1:] {
		f, err := os.Open(name)
		if err != nil {
			fatal(err)
		}
		s, err := ReadSamples(f)
		f.Close()
		if err != nil {
			fatal(fmt.Errorf("%s: %v", name, err))
		}
		stacks = append(stacks, s...)
	}
	if len(stacks) == 0 {
		fatal(fmt.Errorf("no kernel PROF samples in %s", strings.Join(flag.Args()[1:], " ")))
	}
	p, st, err := Convert(flag.Arg(0), stacks, *period*1000, re)
	if err != nil {
		fatal(err)
	}
	if len(p.Sample) == 0 {
		fatal(fmt.Errorf("all %d samples dropped", len(stacks)))
	}
	w, err := os.Create(*out)
	if err != nil {
		fatal(err)
	}
	if err := p.Write(w); err != nil {
		fatal(err)
	}
	if err := w.Close(); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "pgo: %d kernel samples, %d dropped, %d distinct stacks, %d functions (%d unsymbolized addresses) -> %s\n",
		len(stacks), st.Dropped, len(p.Sample), len(p.Function), st.Unknown, *out)
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pgo: %v\n", err)
	os.Exit(1)
}

// ReadSamples returns the kernel-mode stacks of the PROF lines in r, leaf
// first. Other lines (the rest of the console) are ignored; a PROF line that
// does not parse is an error.
func ReadSamples(r io.Reader) ([][]uint64, error) {
	var out [][]uint64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		// The console may carry a carriage return or a prefix from a
		// line that was interrupted; the marker starts the record.
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, "PROF ")
		if i < 0 {
			continue
		}
		fields := strings.Fields(line[i+len("PROF "):])
		if len(fields) == 0 {
			return nil, fmt.Errorf("line %d: PROF without addresses", n)
		}
		st := make([]uint64, 0, len(fields))
		for _, f := range fields {
			a, err := strconv.ParseUint(f, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			st = append(st, a)
		}
		if st[0]>>63 != 0 {
			continue // user mode
		}
		out = append(out, st)
	}
	return out, sc.Err()
}

// Stats counts what Convert left out.
type Stats struct {
	Dropped int // samples whose leaf matched the drop expression
	Unknown int // addresses outside every function of the ELF
}

// Convert builds the CPU profile of stacks (leaf first, callers as return
// addresses) against the kernel ELF at path. Each sample counts once and
// weighs periodNS nanoseconds.
func Convert(path string, stacks [][]uint64, periodNS int64, drop *regexp.Regexp) (*profile.Profile, Stats, error) {
	var st Stats
	sym, err := openSymbols(path)
	if err != nil {
		return nil, st, err
	}
	defer sym.Close()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"},
			{Type: "cpu", Unit: "nanoseconds"},
		},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     periodNS,
	}
	m := &profile.Mapping{
		ID:              1,
		Start:           sym.textStart,
		Limit:           sym.textEnd,
		Offset:          sym.textOff,
		File:            path,
		HasFunctions:    true,
		HasFilenames:    true,
		HasLineNumbers:  true,
		HasInlineFrames: true,
	}
	p.Mapping = []*profile.Mapping{m}
	locs := map[uint64]*profile.Location{}
	funcs := map[string]*profile.Function{}
	samples := map[string]*profile.Sample{}
	location := func(addr uint64, leaf bool) *profile.Location {
		key := addr
		if leaf {
			key |= 1 << 63 // kernel addresses have it clear
		}
		if l, ok := locs[key]; ok {
			return l
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: addr}
		pc := addr
		if !leaf {
			pc-- // a return address: the call is the instruction before
		}
		frames := sym.frames(pc)
		if len(frames) == 0 {
			st.Unknown++
		}
		for _, fr := range frames {
			fn := funcs[fr.name]
			if fn == nil {
				fn = &profile.Function{
					ID:         uint64(len(p.Function) + 1),
					Name:       fr.name,
					SystemName: fr.name,
					Filename:   fr.declFile,
					StartLine:  fr.declLine,
				}
				funcs[fr.name] = fn
				p.Function = append(p.Function, fn)
			}
			l.Line = append(l.Line, profile.Line{Function: fn, Line: fr.line})
		}
		locs[key] = l
		p.Location = append(p.Location, l)
		return l
	}
	for _, s := range stacks {
		if drop != nil {
			if fr := sym.frames(s[0]); len(fr) > 0 && drop.MatchString(fr[0].name) {
				st.Dropped++
				continue
			}
		}
		key := fmt.Sprint(s)
		if smp := samples[key]; smp != nil {
			smp.Value[0]++
			smp.Value[1] += periodNS
			continue
		}
		smp := &profile.Sample{Value: []int64{1, periodNS}}
		for i, a := range s {
			smp.Location = append(smp.Location, location(a, i == 0))
		}
		samples[key] = smp
		p.Sample = append(p.Sample, smp)
	}
	if err := p.CheckValid(); err != nil {
		return nil, st, err
	}
	return p, st, nil
}
