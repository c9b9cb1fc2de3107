package qemu

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

// shared is the part of the command line every profile has, for a guest
// with mem MiB and cpus CPUs.
func shared(mem, cpus string) []string {
	return []string{
		"-m", mem, "-smp", cpus,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
	}
}

func TestArgs(t *testing.T) {
	const (
		microvm = "microvm,pit=on,pic=on,rtc=on,isa-serial=on,acpi=on,ioapic2=off,pcie=off,x-option-roms=off,auto-kernel-cmdline=off"
		q35     = "q35,smm=off,vmport=off,sata=off"
	)
	for _, tt := range []struct {
		name  string
		cfg   Config
		accel Accel
		dir   string
		want  []string
	}{
		{
			name:  "microvm",
			cfg:   Config{Profile: Microvm, Kernel: "k.elf"},
			accel: TCG,
			want:  slices.Concat([]string{"-machine", microvm, "-accel", "tcg", "-cpu", "max"}, shared("256", "1"), []string{"-kernel", "k.elf"}),
		},
		{
			name:  "default profile is microvm",
			cfg:   Config{Kernel: "k.elf"},
			accel: TCG,
			want:  slices.Concat([]string{"-machine", microvm, "-accel", "tcg", "-cpu", "max"}, shared("256", "1"), []string{"-kernel", "k.elf"}),
		},
		{
			name:  "q35",
			cfg:   Config{Profile: Q35, Kernel: "k.elf"},
			accel: TCG,
			want:  slices.Concat([]string{"-machine", q35, "-accel", "tcg", "-cpu", "max"}, shared("256", "1"), []string{"-kernel", "k.elf"}),
		},
		{
			name:  "ovmf",
			cfg:   Config{Profile: OVMF, Kernel: "app.efi"},
			accel: TCG,
			dir:   "/tmp/run",
			want: slices.Concat([]string{
				"-machine", q35, "-global", "ICH9-LPC.disable_s3=1",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/tmp/run/OVMF_VARS.fd",
				"-accel", "tcg", "-cpu", "max",
			}, shared("256", "1"), []string{
				"-net", "none",
				"-kernel", "app.efi",
			}),
		},
		{
			name:  "ovmf kernel, initrd and append",
			cfg:   Config{Profile: OVMF, Kernel: "k.efi", Initrd: "app.cpio", Append: "a b=c"},
			accel: TCG,
			dir:   "/tmp/run",
			want: slices.Concat([]string{
				"-machine", q35, "-global", "ICH9-LPC.disable_s3=1",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/tmp/run/OVMF_VARS.fd",
				"-accel", "tcg", "-cpu", "max",
			}, shared("256", "1"), []string{
				"-net", "none",
				"-kernel", "k.efi", "-initrd", "app.cpio", "-append", "a b=c",
			}),
		},
		{
			name:  "ovmf disk",
			cfg:   Config{Profile: OVMF, Disk: "d,1.img"},
			accel: TCG,
			dir:   "/tmp/run",
			want: slices.Concat([]string{
				"-machine", q35, "-global", "ICH9-LPC.disable_s3=1",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/tmp/run/OVMF_VARS.fd",
				"-accel", "tcg", "-cpu", "max",
			}, shared("256", "1"), []string{
				"-net", "none",
				"-drive", "if=none,id=disk,format=raw,readonly=on,file=d,,1.img",
				"-device", "virtio-blk-pci,drive=disk,bootindex=0",
			}),
		},
		{
			name:  "ovmf escapes commas in paths",
			cfg:   Config{Profile: OVMF, Kernel: "app.efi", OVMFCode: "/fw/a,b.fd", Extra: []string{"-s"}},
			accel: KVM,
			dir:   "/tmp/x,y",
			want: slices.Concat([]string{
				"-machine", q35, "-global", "ICH9-LPC.disable_s3=1",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/a,,b.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/tmp/x,,y/OVMF_VARS.fd",
				"-accel", "kvm", "-cpu", "host,-arch-capabilities",
			}, shared("256", "1"), []string{
				"-net", "none",
				"-kernel", "app.efi",
				"-s",
			}),
		},
		{
			name:  "kvm",
			cfg:   Config{Profile: Q35, Kernel: "k.elf"},
			accel: KVM,
			want:  slices.Concat([]string{"-machine", q35, "-accel", "kvm", "-cpu", "host,-arch-capabilities"}, shared("256", "1"), []string{"-kernel", "k.elf"}),
		},
		{
			name:  "memory and cpus",
			cfg:   Config{Profile: Microvm, Kernel: "k.elf", MemoryMiB: 1024, CPUs: 4},
			accel: TCG,
			want: slices.Concat([]string{"-machine", microvm, "-accel", "tcg", "-cpu", "max"},
				shared("1024", "4"), []string{"-kernel", "k.elf"}),
		},
		{
			name: "initrd, append and extra",
			cfg: Config{
				Profile: Q35, Kernel: "k.elf", Initrd: "in it.rd",
				Append: "console=ttyS0 msg='hi there'",
				Extra:  []string{"-d", "int,cpu_reset", "-D", "qemu.log"},
			},
			accel: TCG,
			want: slices.Concat([]string{"-machine", q35, "-accel", "tcg", "-cpu", "max"}, shared("256", "1"), []string{"-kernel", "k.elf"}, []string{
				"-initrd", "in it.rd",
				"-append", "console=ttyS0 msg='hi there'",
				"-d", "int,cpu_reset", "-D", "qemu.log",
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := args(tt.cfg.withDefaults(), tt.accel, tt.dir)
			if err != nil {
				t.Fatalf("args(%+v) error: %v", tt.cfg, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("args(%+v) =\n%q\nwant\n%q", tt.cfg, got, tt.want)
			}
		})
	}
}

func TestArgsErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		accel Accel
		want  string
	}{
		{"no kernel", Config{}, TCG, "Kernel is empty"},
		{"unknown profile", Config{Profile: "pc", Kernel: "k"}, TCG, `unknown profile "pc"`},
		{"unknown accel", Config{Kernel: "k"}, "hvf", `unknown accelerator "hvf"`},
		{"unresolved auto", Config{Kernel: "k"}, Auto, `unknown accelerator "auto"`},
		{"negative memory", Config{Kernel: "k", MemoryMiB: -1}, TCG, "must not be negative"},
		{"disk without ovmf", Config{Profile: Q35, Disk: "d.img"}, TCG, "needs the \"ovmf\" profile"},
		{"disk and kernel", Config{Profile: OVMF, Disk: "d.img", Kernel: "k"}, TCG, "not both"},
		{"disk and append", Config{Profile: OVMF, Disk: "d.img", Append: "quiet"}, TCG, "not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := args(tt.cfg.withDefaults(), tt.accel, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("args(%+v, %q) error = %v, want one containing %q", tt.cfg, tt.accel, err, tt.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"qemu", "-m", "256"}, "qemu -m 256"},
		{[]string{"-machine", "microvm,pit=on", "-kernel", "/a/b-c_d.elf"}, "-machine microvm,pit=on -kernel /a/b-c_d.elf"},
		{[]string{"-append", "console=ttyS0 quiet"}, "-append 'console=ttyS0 quiet'"},
		{[]string{"-append", "msg='hi'"}, `-append 'msg='\''hi'\'''`},
		{[]string{"-initrd", "my initrd"}, "-initrd 'my initrd'"},
		{[]string{"-append", ""}, "-append ''"},
		{[]string{"$HOME", "a;b", "*", "~x", "ü"}, `'$HOME' 'a;b' '*' '~x' 'ü'`},
	} {
		if got := shellQuote(tt.words); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.words, got, tt.want)
		}
	}
}

// TestShellQuoteRoundTrip checks with a real shell that the quoted line
// gives back the same words.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		testenv.Missing(t, "no POSIX shell (apt-get install dash): %v", err)
	}
	words := []string{"-append", "console=ttyS0 a='b c' \"d\" $HOME `x` \\ e", "", "tab\there", "new\nline", "it's"}
	script := "for w in " + shellQuote(words) + `; do printf '%s\0' "$w"; done`
	out, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Errorf("sh -c %q printed %q, want %q", script, got, words)
	}
}

func TestNetArgs(t *testing.T) {
	f, err := ParseForward("8080:80")
	if err != nil || f != (Forward{HostPort: 8080, GuestPort: 80}) {
		t.Fatalf("ParseForward = %+v, %v", f, err)
	}
	u, err := ParseForward("5353:53/udp")
	if err != nil || !u.UDP || u.String() != "5353:53/udp" {
		t.Fatalf("ParseForward udp = %+v, %v", u, err)
	}
	for _, bad := range []string{"80", "0:80", "80:70000", "a:b", "80:80/sctp", ""} {
		if _, err := ParseForward(bad); err == nil {
			t.Errorf("ParseForward(%q) accepted", bad)
		}
	}
	c := Config{Kernel: "k", Net: &Net{Forwards: []Forward{f, u}}}.withDefaults()
	a, err := args(c, TCG, "")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(a, " ")
	for _, want := range []string{
		"-netdev user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53",
		"-device virtio-net-device,netdev=net0", "-global virtio-mmio.force-legacy=false",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("arguments lack %q: %s", want, line)
		}
	}
	for _, p := range []Profile{Q35, OVMF} {
		c := Config{Kernel: "k", Profile: p, Net: &Net{}}.withDefaults()
		a, err := args(c, TCG, "/tmp")
		if err != nil {
			t.Fatal(err)
		}
		line := strings.Join(a, " ")
		if !strings.Contains(line, "-device virtio-net-pci,netdev=net0") || strings.Contains(line, "virtio-net-device") || strings.Contains(line, "virtio-mmio") {
			t.Errorf("%s: want a virtio-net-pci device: %s", p, line)
		}
	}
}
