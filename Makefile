# Thin wrappers around cargo and the scripts in ci/, qemu/ and initramfs/.
# `make` builds the static daemon at $(BIN) and dpctl beside it; it never
# installs system packages (`make deps` does, and `make test` and
# `make demo` call it).

TARGET  ?= x86_64-unknown-linux-musl
CARGO_BIN := target/$(TARGET)/release/daemonproxy
# The shipped binary: cargo's output without unwind tables.
BIN     := build/$(TARGET)/daemonproxy
CARGO   ?= cargo
# mkinitramfs runs on the build machine, whatever TARGET the daemon is for.
HOST_TARGET ?= $(shell uname -m)-unknown-linux-musl
MKINITRAMFS := target/$(HOST_TARGET)/release/mkinitramfs

# The PID 1 image: ARCH is x86_64 or aarch64.
ARCH    ?= x86_64
ARCHES  := x86_64 aarch64
IMAGE    = build/qemu/$(ARCH)/initramfs.cpio
# Reproducible builds: the daemon's build timestamp and every image entry's
# mtime come from the last commit.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: all build dpctl install initramfs-tool initramfs qemu demo vmtest test unit integration lint deps bench fuzz help clean

all: build dpctl

# The unwind tables are dead weight in a panic=abort binary: link.ld drops
# them at link time except crtbegin.o's own entry, which goes here, with
# the toolchains' .comment notes.
OBJCOPY_x86_64-unknown-linux-musl  ?= objcopy
OBJCOPY_aarch64-unknown-linux-musl ?= aarch64-linux-gnu-objcopy

build:
	$(CARGO) build --release --target $(TARGET) --bin daemonproxy
	@mkdir -p $(dir $(BIN))
	$(OBJCOPY_$(TARGET)) -R .eh_frame -R .eh_frame_hdr -R .comment $(CARGO_BIN) $(BIN)
	sh ci/sstrip.sh $(BIN)
	@ls -l $(BIN)

## dpctl: the control client, stripped like the daemon, at $(DPCTL)
DPCTL_CARGO_BIN := target/$(TARGET)/release/dpctl
DPCTL   := build/$(TARGET)/dpctl
dpctl:
	$(CARGO) build --release --target $(TARGET) -p dpctl
	@mkdir -p $(dir $(DPCTL))
	$(OBJCOPY_$(TARGET)) -R .eh_frame -R .eh_frame_hdr -R .comment $(DPCTL_CARGO_BIN) $(DPCTL)
	sh ci/sstrip.sh $(DPCTL)
	@ls -l $(DPCTL)

## initramfs-tool: the image builder, at $(MKINITRAMFS)
initramfs-tool:
	$(CARGO) build --release --target $(HOST_TARGET) -p mkinitramfs

## initramfs: the PID 1 image for ARCH at build/qemu/ARCH/initramfs.cpio
initramfs: initramfs-tool
	$(MAKE) --no-print-directory build TARGET=$(ARCH)-unknown-linux-musl
	$(MAKE) --no-print-directory dpctl TARGET=$(ARCH)-unknown-linux-musl
	$(CARGO) build --release --target $(ARCH)-unknown-linux-musl --example serve
	MKINITRAMFS=$(CURDIR)/$(MKINITRAMFS) sh initramfs/build-image.sh $(ARCH) $(IMAGE)

## qemu: boot the image for ARCH interactively (Ctrl-A X quits)
qemu: initramfs
	qemu/boot.sh -i $(ARCH) $(IMAGE)

## demo: build everything and boot the demo image as PID 1 (x86_64)
demo: deps initramfs
	@echo
	@echo "Booting daemonproxy as PID 1 ($(ARCH), QEMU). In the guest: 'poweroff' or"
	@echo "'reboot' shuts down through daemonproxy; Ctrl-A X quits QEMU at once."
	@echo
	qemu/boot.sh -i $(ARCH) $(IMAGE)

## vmtest: the VM suites (daemonproxy as PID 1) on every architecture, and
## a check that the image is reproducible
vmtest:
	@set -e; for a in $(ARCHES); do $(MAKE) --no-print-directory initramfs ARCH=$$a; \
	  MKINITRAMFS=$(CURDIR)/$(MKINITRAMFS) sh initramfs/build-image.sh $$a build/qemu/$$a/initramfs.again.cpio; \
	  cmp build/qemu/$$a/initramfs.cpio build/qemu/$$a/initramfs.again.cpio; \
	  echo "image $$a: $$(sha256sum < build/qemu/$$a/initramfs.cpio | cut -c1-16)... reproducible, $$(wc -c < build/qemu/$$a/initramfs.cpio) bytes"; done
	@failed=0; for a in $(ARCHES); do qemu/vmtest.sh $$a build/qemu/$$a/initramfs.cpio || failed=1; done; exit $$failed

## test: unit tests, the integration suite against the release binary, the
## image builder's tests, then the VM suites
# The fault tests run a test build whose `test.fault` command raises a real
# CPU fault (the fault-injection feature, never in a release build).
FAULT_BIN := target/fault/$(TARGET)/release/daemonproxy
test: deps build dpctl
	$(CARGO) build --release --target $(TARGET) --bin daemonproxy --features fault-injection --target-dir target/fault
	$(CARGO) test --release --target $(TARGET) --bins
	$(CARGO) test --release --target $(TARGET) -p dpctl
	sh ci/check-man.sh
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) $(CARGO) test --release --target $(TARGET) -p bench
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) DAEMONPROXY_FAULT_BIN=$(CURDIR)/$(FAULT_BIN) \
		DPCTL_BIN=$(CURDIR)/$(DPCTL) $(CARGO) test --release --target $(TARGET) --test tests
	sh ci/install-test.sh
	$(CARGO) test --release --target $(HOST_TARGET) -p mkinitramfs
	$(MAKE) --no-print-directory vmtest

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --target $(TARGET) --workspace --all-targets -- -D warnings

## install: the binaries, man pages, dp.sh and the example config and
## controller under $(DESTDIR)$(PREFIX), as distribution packages call it
## (make install DESTDIR=$$PKG PREFIX=/usr)
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/daemonproxy
INSTALL ?= install
MANPAGES = $(wildcard man/daemonproxy.8 man/dpctl.8)
EXAMPLES = initramfs/rootfs/etc/daemonproxy.conf initramfs/rootfs/etc/dp/controller \
	initramfs/rootfs/etc/dp/on-exit initramfs/rootfs/lib/dp/boot.sh initramfs/rootfs/lib/dp/logger
install: build dpctl
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/examples
	$(INSTALL) -m 0755 $(BIN) $(DPCTL) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 initramfs/rootfs/lib/dp/dp.sh $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DATADIR)/examples/

## deps: install what a fresh Debian machine lacks (musl target, strace, cpio)
deps:
	@sh ci/deps.sh

## bench: the daemon against the limits of the machine (README, "Benchmark");
## COMPARE=/path/to/other-daemonproxy adds a column for another implementation.
BENCH_BIN  := target/$(TARGET)/release/bench
BENCH_OUT  ?= target/bench/results.jsonl
BENCH_BASE ?= bench/baseline.jsonl
COMPARE    ?=
bench: build
	$(MAKE) --no-print-directory TARGET=aarch64-unknown-linux-musl build
	$(CARGO) build --release --target $(TARGET) -p bench
	$(BENCH_BIN) --daemon $(BIN) --aarch64 build/aarch64-unknown-linux-musl/daemonproxy \
		--out $(BENCH_OUT) $(if $(wildcard $(BENCH_BASE)),--baseline $(BENCH_BASE)) \
		$(if $(COMPARE),--compare $(COMPARE))

clean:
	$(CARGO) clean

## fuzz: the command dispatcher under cargo-fuzz (nightly) for FUZZ_TIME
## seconds, from the seed corpus fuzz/corpus/dispatcher (new inputs go to
## build/fuzz/corpus, crashes to fuzz/artifacts). `make test` runs a short
## fixed-seed pass of the same harness (src/fuzz.rs) with the unit tests.
FUZZ_TIME ?= 300
FUZZ_TOOLCHAIN ?= nightly
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@mkdir -p build/fuzz/corpus
	cd fuzz && $(CARGO) +$(FUZZ_TOOLCHAIN) fuzz run dispatcher ../build/fuzz/corpus corpus/dispatcher -- -max_total_time=$(FUZZ_TIME)

help:
	@echo "make        build the static daemon ($(BIN)) and dpctl"
	@echo "make install [DESTDIR=...] [PREFIX=/usr/local]  binaries, man pages, dp.sh, examples"
	@echo "make demo   boot the demo image with daemonproxy as PID 1 in QEMU"
	@echo "make test   unit, integration and VM tests (installs prerequisites)"
	@echo "make initramfs [ARCH=aarch64]  the PID 1 image (build/qemu/ARCH/initramfs.cpio)"
	@echo "make qemu [ARCH=aarch64]       boot that image interactively"
	@echo "make vmtest  the VM suites on x86_64 and aarch64"
	@echo "make lint   rustfmt and clippy"
	@echo "make bench  the daemon against the machine's limits (COMPARE=other binary)"
	@echo "make fuzz   fuzz the command dispatcher (cargo-fuzz, nightly; FUZZ_TIME=seconds)"
	@echo "make initramfs-tool  build the image builder ($(MKINITRAMFS))"
