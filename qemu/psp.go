package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

// SecretsAddr is the guest physical address where RunWithPSP places the
// simulated secrets page: the first page above the low megabyte the
// kernel reserves, below its image at 2 MiB. The kernel finds it through
// cocoon.secrets=ADDR and keeps it out of its allocator.
const SecretsAddr = 0x100000

// PSP configures the simulated AMD Secure Processor of a run.
type PSP struct {
	// Measurement is the MEASUREMENT its reports carry. Zero means the
	// simulated launch digest of Config.Kernel and Config.Initrd
	// (simpsp.LaunchDigest), which 'mkimage verify --test-root' expects.
	Measurement [48]byte
	// HostData is HOST_DATA.
	HostData [32]byte
}

// PSPResult is what the simulated PSP did during a run.
type PSPResult struct {
	// Measurement is the MEASUREMENT it reported.
	Measurement [48]byte
	simpsp.Stats
	// Err is why it stopped serving, if not because the guest went away.
	Err error
}

// RunWithPSP boots the guest cfg describes, as Run does, with a simulated
// PSP attached (snp/simpsp): it makes a secrets page with fresh VMPCKs,
// loads it into guest memory at SecretsAddr and names it on the kernel
// command line (cocoon.secrets=ADDR), serves the PSP on a Unix socket
// that QEMU connects the guest's COM2 to, and stops it when QEMU exits.
// Inside, north/run then offers /dev/sev-guest. The PSP's reports are
// signed with go-sev-guest's test-only keys.
func RunWithPSP(ctx context.Context, cfg Config, psp PSP) (*Result, *PSPResult, error) {
	cfg = cfg.withDefaults()
	if cfg.Profile == OVMF {
		return nil, nil, errors.New("qemu: the simulated PSP needs a PVH profile (microvm or q35): under ovmf the firmware owns the memory where its secrets page goes")
	}
	m := psp.Measurement
	if m == ([48]byte{}) {
		var err error
		if m, err = simpsp.LaunchDigestFiles(cfg.Kernel, cfg.Initrd); err != nil {
			return nil, nil, fmt.Errorf("qemu: %w", err)
		}
	}
	launch, err := simpsp.NewLaunch(m, psp.HostData)
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: simulated PSP: %w", err)
	}
	chip, err := simpsp.DefaultChip()
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: %w", err)
	}
	p, err := simpsp.New(chip, launch)
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: %w", err)
	}

	dir, err := os.MkdirTemp("", "cocoon-psp-")
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: %w", err)
	}
	defer os.RemoveAll(dir)
	secrets := filepath.Join(dir, "secrets.bin")
	if err := os.WriteFile(secrets, launch.Secrets.Marshal(), 0o600); err != nil {
		return nil, nil, fmt.Errorf("qemu: simulated secrets page: %w", err)
	}
	sock := filepath.Join(dir, "psp.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: simulated PSP socket: %w", err)
	}
	srv := &pspServer{ln: ln, p: p}
	srv.done.Add(1)
	go srv.serve()

	cfg.Extra = append(append([]string(nil), cfg.Extra...),
		// COM2 (0x2f8), the guest's host channel, to the PSP's socket.
		"-chardev", "socket,id=psp,server=off,path="+optValue(sock),
		"-device", "isa-serial,chardev=psp,index=1",
		// The secrets page, as raw bytes at SecretsAddr.
		"-device", fmt.Sprintf("loader,file=%s,addr=%#x,force-raw=on", optValue(secrets), SecretsAddr))
	cfg.Append = strings.TrimSpace(fmt.Sprintf("cocoon.secrets=%#x %s", SecretsAddr, cfg.Append))

	res, runErr := Run(ctx, cfg)
	out := &PSPResult{Measurement: m, Err: srv.stop()}
	out.Stats = p.Stats()
	return res, out, runErr
}

// pspServer serves one guest's connection.
type pspServer struct {
	ln   net.Listener
	p    *simpsp.PSP
	done sync.WaitGroup

	mu   sync.Mutex
	conn net.Conn
	err  error
}

func (s *pspServer) serve() {
	defer s.done.Done()
	conn, err := s.ln.Accept()
	if err != nil {
		return // stopped before QEMU connected
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	err = s.p.Serve(conn)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// stop closes the socket and the connection and returns the error that
// ended the service, if any.
func (s *pspServer) stop() error {
	s.ln.Close()
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
	s.done.Wait()
	return s.err
}
