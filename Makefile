# Thin wrappers around cargo and the scripts in ci/, qemu/ and initramfs/.
# `make` builds the static daemon at $(BIN) and dpctl beside it; it never
# installs system packages (`make deps` does, and `make test` and
# `make demo` call it).

# ARCH names an architecture, TARGET its Rust target; give either.
ARCHES_ALL := x86_64 aarch64 armv7 riscv64 mipsel
TRIPLE.x86_64  := x86_64-unknown-linux-musl
TRIPLE.aarch64 := aarch64-unknown-linux-musl
TRIPLE.armv7   := armv7-unknown-linux-musleabihf
TRIPLE.riscv64 := riscv64gc-unknown-linux-musl
TRIPLE.mipsel  := mipsel-unknown-linux-musl
ifeq ($(origin TARGET),undefined)
ARCH   ?= x86_64
TARGET := $(TRIPLE.$(ARCH))
else
ARCH   ?= $(firstword $(foreach a,$(ARCHES_ALL),$(if $(filter $(TARGET),$(TRIPLE.$(a))),$(a))))
endif
ifeq ($(TARGET),)
$(error unknown ARCH '$(ARCH)': one of $(ARCHES_ALL))
endif
# The VM suites (make vmtest, make test) boot every one of these. mipsel
# boots and passes them, but is over the size budget (docs/size.md).
ARCHES  ?= x86_64 aarch64 armv7 riscv64 mipsel

CARGO_BIN := target/$(TARGET)/release/daemonproxy
# The shipped binary: cargo's output without unwind tables.
BIN     := build/$(TARGET)/daemonproxy
CARGO   ?= cargo
# mkinitramfs runs on the build machine, whatever TARGET the daemon is for.
HOST_TARGET ?= $(shell uname -m)-unknown-linux-musl
MKINITRAMFS := target/$(HOST_TARGET)/release/mkinitramfs
IMAGE    = build/qemu/$(ARCH)/initramfs.cpio
# Reproducible builds: the daemon's build timestamp and every image entry's
# mtime come from the last commit.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

# rustup ships std (and musl's C runtime) for these targets only. For the
# others `core` is built from the rust-src component (-Zbuild-std, which
# RUSTC_BOOTSTRAP=1 unlocks on the pinned stable toolchain) and musl comes
# from Debian (ci/sysroot.sh into build/sysroot/TARGET).
RUSTUP_TARGETS := x86_64-unknown-linux-musl aarch64-unknown-linux-musl
BUILD_STD := $(if $(filter $(TARGET),$(RUSTUP_TARGETS)),,-Zbuild-std=core)
CARGO_T   := $(if $(BUILD_STD),RUSTC_BOOTSTRAP=1 )$(CARGO)
# Their links take crt1.o and libc.a from there (the targets set
# -C link-self-contained=no in .cargo/config.toml).
SYSROOT   := $(CURDIR)/build/sysroot/$(TARGET)
comma     := ,
SYSROOT_FLAGS := ["-L"$(comma)"native=$(SYSROOT)"$(comma)"-C"$(comma)"link-arg=$(SYSROOT)/crt1.o"]
BUILD_STD += $(if $(BUILD_STD),--config 'target.$(TARGET).rustflags=$(SYSROOT_FLAGS)')

# One objcopy for every target: LLVM's, from the toolchain's llvm-tools
# component (rust-toolchain.toml).
OBJCOPY ?= $(shell rustc --print sysroot)/lib/rustlib/$(shell rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy

.PHONY: clippy-one all build dpctl install initramfs-tool initramfs qemu demo vmtest test test-arch unit integration lint deps bench fuzz help clean

all: build dpctl

# The unwind tables are dead weight in a panic=abort binary: link.ld drops
# them at link time except crtbegin.o's own entry, which goes here, with
# the toolchains' .comment notes.
build:
	@sh ci/sysroot.sh $(TARGET)
	$(CARGO_T) build --release --target $(TARGET) $(BUILD_STD) --bin daemonproxy
	@mkdir -p $(dir $(BIN))
	$(OBJCOPY) -R .eh_frame -R .eh_frame_hdr -R .comment $(CARGO_BIN) $(BIN)
	sh ci/sstrip.sh $(BIN)
	@ls -l $(BIN)

## dpctl: the control client, stripped like the daemon, at $(DPCTL)
DPCTL_CARGO_BIN := target/$(TARGET)/release/dpctl
DPCTL   := build/$(TARGET)/dpctl
dpctl:
	@sh ci/sysroot.sh $(TARGET)
	$(CARGO_T) build --release --target $(TARGET) $(BUILD_STD) -p dpctl
	@mkdir -p $(dir $(DPCTL))
	$(OBJCOPY) -R .eh_frame -R .eh_frame_hdr -R .comment $(DPCTL_CARGO_BIN) $(DPCTL)
	sh ci/sstrip.sh $(DPCTL)
	@ls -l $(DPCTL)

## initramfs-tool: the image builder, at $(MKINITRAMFS)
initramfs-tool:
	$(CARGO) build --release --target $(HOST_TARGET) -p mkinitramfs

## initramfs: the PID 1 image for ARCH at build/qemu/ARCH/initramfs.cpio
initramfs: initramfs-tool
	$(MAKE) --no-print-directory build ARCH=$(ARCH)
	$(MAKE) --no-print-directory dpctl ARCH=$(ARCH)
	$(CARGO_T) build --release --target $(TARGET) $(BUILD_STD) --example serve
	$(CARGO_T) build --release --target $(TARGET) $(BUILD_STD) --bin daemonproxy --features fault-injection --target-dir target/fault
	MKINITRAMFS=$(CURDIR)/$(MKINITRAMFS) sh initramfs/build-image.sh $(ARCH) $(IMAGE)

## qemu: boot the image for ARCH interactively (Ctrl-A X quits)
qemu: initramfs
	qemu/boot.sh -i $(ARCH) $(IMAGE)

## demo: build everything and boot the demo image as PID 1 (ARCH, x86_64
## unless given)
demo: deps
	$(MAKE) --no-print-directory initramfs ARCH=$(ARCH)
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
test: deps
	$(MAKE) --no-print-directory build dpctl
	$(CARGO) build --release --target $(TARGET) --bin daemonproxy --features fault-injection --target-dir target/fault
	$(CARGO) test --release --target $(TARGET) --test unit
	$(CARGO) test --release --target $(TARGET) -p dpctl
	sh ci/check-man.sh
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) $(CARGO) test --release --target $(TARGET) -p bench
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) DAEMONPROXY_FAULT_BIN=$(CURDIR)/$(FAULT_BIN) \
		DPCTL_BIN=$(CURDIR)/$(DPCTL) $(CARGO) test --release --target $(TARGET) --test tests
	sh ci/install-test.sh
	$(CARGO) test --release --target $(HOST_TARGET) -p mkinitramfs
	$(MAKE) --no-print-directory vmtest

## test-arch: the integration suite against the ARCH binary under
## qemu-user (binfmt_misc; needs root to register). docs/ports.md lists the
## tests emulation cannot pass and why.
test-arch: deps
	$(MAKE) --no-print-directory build dpctl ARCH=$(ARCH)
	$(CARGO_T) build --release --target $(TARGET) $(BUILD_STD) --bin daemonproxy --features fault-injection --target-dir target/fault
	sh ci/binfmt.sh $(ARCH)
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) DAEMONPROXY_FAULT_BIN=$(CURDIR)/$(FAULT_BIN) \
		DPCTL_BIN=$(CURDIR)/$(DPCTL) $(CARGO) test --release --target $(HOST_TARGET) --test tests -- $(TESTS)

## lint: rustfmt, clippy on the workspace, clippy on the daemon for every
## other architecture in ARCHES (their cfg'd ABI code), and a check that the
## fuzz target (fuzz/, which mirrors src/'s modules) still builds
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --target $(TARGET) --workspace --all-targets -- -D warnings
	cd fuzz && RUSTFLAGS="--cfg fuzzing" $(CARGO) check --target $(shell uname -m)-unknown-linux-gnu --bin dispatcher
	@set -e; for a in $(filter-out $(ARCH),$(ARCHES)); do \
	  $(MAKE) --no-print-directory clippy-one ARCH=$$a; done

clippy-one:
	$(CARGO_T) clippy --release --target $(TARGET) $(BUILD_STD) --bin daemonproxy --example serve -- -D warnings
	$(CARGO_T) clippy --release --target $(TARGET) $(BUILD_STD) -p dpctl -- -D warnings

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

## deps: install what a fresh Debian machine lacks (QEMU, strace, cpio, the
## toolchain's components and targets)
deps:
	@sh ci/deps.sh

## bench: the daemon against the limits of the machine (README, "Benchmark");
## COMPARE=/path/to/other-daemonproxy adds a column for another implementation.
BENCH_BIN  := target/$(TARGET)/release/bench
BENCH_OUT  ?= target/bench/results.jsonl
BENCH_BASE ?= bench/baseline.jsonl
COMPARE    ?=
bench: build
	$(MAKE) --no-print-directory ARCH=aarch64 build
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
	@echo "make ARCH=armv7   the daemon for ARCH ($(ARCHES_ALL)), or TARGET=triple"
	@echo "make initramfs [ARCH=aarch64]  the PID 1 image (build/qemu/ARCH/initramfs.cpio)"
	@echo "make qemu [ARCH=aarch64]       boot that image interactively"
	@echo "make vmtest  the VM suites on $(ARCHES)"
	@echo "make test-arch ARCH=armv7      the integration suite under qemu-user"
	@echo "make lint   rustfmt and clippy"
	@echo "make bench  the daemon against the machine's limits (COMPARE=other binary)"
	@echo "make fuzz   fuzz the command dispatcher (cargo-fuzz, nightly; FUZZ_TIME=seconds)"
	@echo "make initramfs-tool  build the image builder ($(MKINITRAMFS))"
