# Cocoon: a Go library OS that boots one application as a (confidential) VM.
#
#   make run     build the demo image and boot it under QEMU
#   make test    unit, fuzz-seed and QEMU integration tests
#   make bench   performance figures (boot time, image size, measurement)
#   make bench-net  the network rows only, Cocoon and the Linux guest alternating
#   make images  build the example images into out/
#
# Each target installs what a fresh Debian machine lacks (QEMU, OVMF) first.

GO      ?= go
OUT     ?= out
DEBPKGS := qemu-system-x86 ovmf busybox-static bash-static gcc libc6-dev libsqlite3-dev liblua5.4-dev libssl-dev zlib1g-dev
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test vet bench bench-net images run fuzz fuzz-guest clean

all: images

# deps installs the Debian packages the tests and demos need, if missing,
# and downloads Go modules.
deps:
	@missing=""; for p in $(DEBPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make: installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@$(GO) mod download

vet:
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run 'go mod tidy'"; exit 1; }
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

test: deps vet
	$(GO) test -count=1 -timeout 15m ./...

# fuzz runs every fuzz target in the tree (each func FuzzX in a _test.go
# file) for FUZZTIME, going on past a failure and naming the failed targets
# at the end. The minimization of an input the fuzzer finds interesting is
# bounded by FUZZMINIMIZE so that it does not take most of a short run.
# The cocoonfuzz build tag keeps the kernel's page-table call chain out of
# FuzzSyscall's binary (kernel/enter_fuzz_test.go).
FUZZTIME ?= 20s
FUZZMINIMIZE ?= 5s
# Then it boots the in-guest fuzzer images/hostile for HOSTILE_SEEDS
# (first-last) with HOSTILE_OPS operations each, HOSTILE_GUESTS guests at
# a time: 10 million operations by default (under TCG one guest runs
# some 4000 operations a second on an idle core: about 25 minutes on an
# idle 2-core machine; four guests at a load of 20-30 ran 2500-2800 a
# second together, about an hour). It ends with the totals
# (operations, seeds, kernel failures, time); any kernel fault, panic or
# hang fails it. make fuzz-guest runs only that part.
HOSTILE_SEEDS ?= 1-100
HOSTILE_OPS ?= 100000
HOSTILE_GUESTS ?= 2
fuzz:
	@failed=""; n=0; \
	for t in $$(git grep -o '^func Fuzz[A-Za-z0-9_]*' -- '*_test.go' | sed 's|^\(.*\)/[^/]*:func \(Fuzz.*\)|\1:\2|'); do \
		dir=$${t%%:*}; fn=$${t##*:}; n=$$((n+1)); \
		echo "== $$fn ./$$dir"; \
		$(GO) test -tags cocoonfuzz -run XXX -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./$$dir || failed="$$failed $$fn(./$$dir)"; \
	done; \
	$(MAKE) --no-print-directory fuzz-guest || failed="$$failed TestVMHostileFuzz(./north)"; \
	if [ -n "$$failed" ]; then echo "make fuzz: failed:$$failed"; exit 1; fi; \
	echo "make fuzz: all $$n targets and the in-guest fuzzer ran without a failure"

fuzz-guest:
	@echo "== images/hostile in the guest: seeds $(HOSTILE_SEEDS), $(HOSTILE_OPS) operations each, $(HOSTILE_GUESTS) guests at a time"; \
	log=$$(mktemp); \
	{ COCOON_HOSTILE_SEEDS=$(HOSTILE_SEEDS) COCOON_HOSTILE_OPS=$(HOSTILE_OPS) \
		$(GO) test -count=1 -timeout 0 -parallel $(HOSTILE_GUESTS) -run '^TestVMHostileFuzz$$' -v ./north; echo $$? >$$log.rc; } 2>&1 | tee $$log; \
	rc=$$(cat $$log.rc); total=$$(grep -o 'hostile: total .*' $$log | tail -1); rm -f $$log $$log.rc; \
	echo "make fuzz-guest: $${total:-no totals (the test did not get to run the guests)}"; \
	if [ "$$rc" != 0 ]; then echo "make fuzz-guest: FAILED (go test status $$rc; a KERNEL FAILURE or EMULATOR FAILURE line above names the seed and how to replay it)"; exit 1; fi

images: deps
	$(GO) run ./tools/mkimage build --kernel ./images/selftest -o $(OUT)/selftest
	$(GO) run ./tools/mkimage build ./images/hello -o $(OUT)/hello
	$(GO) run ./tools/mkimage build ./images/stress -o $(OUT)/stress
	$(GO) run ./tools/mkimage build ./images/attest -o $(OUT)/attest
	$(GO) run ./tools/mkimage build --platform lvbs ./images/vtl0svc -o $(OUT)/vtl0svc

# run boots the demo: unmodified Go programs at CPL3 under Cocoon; the last
# fetches an SEV-SNP attestation report for a fresh nonce from a simulated
# PSP through /dev/sev-guest, and the host verifies it.
run: images
	$(GO) run ./tools/mkimage run $(OUT)/stress
	$(GO) run ./tools/mkimage run --env GREETING=hi $(OUT)/hello hello "from the kernel command line"
	$(GO) run ./tools/mkimage attest $(OUT)/attest
	@$(MAKE) --no-print-directory secret-demo
	@echo "LVBS: Cocoon as a Hyper-V VTL1 secure kernel, under a SIMULATED VSM (QEMU has no VTLs; docs/LVBS.md):"
	$(GO) run ./tools/mkimage simulate-vsm $(OUT)/vtl0svc

# secret-demo: a relying party on the host verifies a guest over attested
# TLS (simulated PSP, test-only roots) and only then sends it the key to
# data sealed into its image; the guest prints the SHA-256 of what it
# opened, which must equal the data's. The key and the data stay on the
# host side (out/); the image carries only the sealed copy.
DEMO_PORT ?= 18443
.PHONY: secret-demo
secret-demo: deps
	@mkdir -p $(OUT)
	@head -c 4096 /dev/urandom > $(OUT)/secret.data
	$(GO) run ./tools/provision seal -key $(OUT)/secret.key -in $(OUT)/secret.data -o $(OUT)/secret.sealed
	$(GO) run ./tools/mkimage build ./images/secret --file $(OUT)/secret.sealed:/secret.sealed -o $(OUT)/secret
	$(GO) build -o $(OUT)/mkimage ./tools/mkimage
	$(GO) build -o $(OUT)/provision ./tools/provision
	@$(OUT)/mkimage run --psp --publish $(DEMO_PORT):8443 $(OUT)/secret & guest=$$!; \
	$(OUT)/provision send -wait 5m -key $(OUT)/secret.key -image $(OUT)/secret -test-root 127.0.0.1:$(DEMO_PORT); sent=$$?; \
	wait $$guest; status=$$?; \
	echo "host: the data's SHA-256 is $$(sha256sum $(OUT)/secret.data | cut -d' ' -f1)"; \
	[ $$sent = 0 ] && [ $$status = 0 ]

bench-net: deps
	$(GO) run ./tools/bench -net

# pgo regenerates north/cocoon/default.pgo, the profile go build uses to
# optimise the kernel (-pgo=auto): the kernel, booted with cocoon.prof=20,
# serves bench-net's HTTP load (4 connections, then 1) under -icount and prints a sample of its own
# stacks every 20 µs of guest time; tools/pgo turns them into pprof's
# format (idle samples dropped). docs/KERNEL.md, "Profile-guided optimisation".
.PHONY: pgo
pgo: deps
	$(GO) run ./tools/bench -pgo $(OUT)/pgo/c4 -requests 2000 -conns 4
	$(GO) run ./tools/bench -pgo $(OUT)/pgo/c1 -requests 2000 -conns 1
	cmp $(OUT)/pgo/c4/cocoon.elf $(OUT)/pgo/c1/cocoon.elf
	$(GO) run ./tools/pgo -drop '^github.com/cocoon-vm/cocoon/kernel.idleLoop$$' -period 20 -o north/cocoon/default.pgo \
		$(OUT)/pgo/c4/cocoon.elf $(OUT)/pgo/c4/console.txt $(OUT)/pgo/c1/console.txt

bench: deps
	$(GO) run ./tools/bench
	@echo
	@echo "SEV-SNP launch measurement (4 MiB firmware, 10 MiB kernel):"
	@$(GO) test -run XXX -bench 'BenchmarkMeasure' -benchtime 20x ./snp/measure | grep -E '^Benchmark'
	@echo
	@echo "The application's standard streams (TCG; a run moving nothing subtracted): stdin on the virtio console (microvm) and on COM3 (q35), stdout on COM3:"
	@$(GO) test -run XXX -bench 'BenchmarkStdioVM' -benchtime 1x ./tools/mkimage | grep -E '^Benchmark'
	@echo
	@echo "Attestation with the simulated PSP: report round trip inside the guest (TCG, median of 21), host-side verification:"
	@$(GO) test -run XXX -bench 'BenchmarkAttestRoundTripVM' -benchtime 1x ./tools/mkimage | grep -E '^Benchmark'
	@$(GO) test -run XXX -bench 'BenchmarkVerify' ./tools/mkimage | grep -E '^Benchmark'
	@echo
	@echo "Attested TLS on the host: handshake with the client verifying the report vs plain (pinned certificate), and the server's start (key, report from the in-process simulated PSP, certificate):"
	@$(GO) test -run XXX -bench 'BenchmarkHandshake|BenchmarkNewServer' -benchtime 200x ./north/attest/atls | grep -E '^Benchmark'

clean:
	rm -rf $(OUT)

# conformance runs Go standard-library packages' own tests inside Cocoon
# and natively on the host, side by side (PKGS="regexp sort" runs a chosen
# list). The full list also rewrites the table in docs/CONFORMANCE.md.
.PHONY: conformance
conformance: deps
	$(GO) run ./tools/conformance -o $(OUT) $(if $(PKGS),,-doc docs/CONFORMANCE.md -doc README.md) $(PKGS)

# conformance-thirdparty runs third-party packages' own test suites the
# same way (tools/conformance/thirdparty is the Go module requiring them):
# go.etcd.io/bbolt, a database that reads its file through a shared
# mapping. 5 GiB of guest RAM: one test allocates a 2 GiB value, which
# Linux's overcommit heuristic (and Cocoon's) refuses with less RAM, and
# on one CPU Go's collector often marks it while it is still live, so the
# heap grows to about 4 GiB before the next collection (natively under
# taskset -c 0: peak RSS 3.5 GiB in 2 of 3 runs); 3 GiB ran out of memory
# in about half the runs, as Linux would.
.PHONY: conformance-thirdparty
conformance-thirdparty: deps
	$(GO) run ./tools/conformance -C tools/conformance/thirdparty -m 5120 -o $(OUT)/thirdparty go.etcd.io/bbolt
