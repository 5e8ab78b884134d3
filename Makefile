# Thin wrappers around cargo and the scripts in ci/, qemu/ and initramfs/.
# `make` builds the static daemon at $(BIN).

TARGET  ?= x86_64-unknown-linux-musl
CARGO_BIN := target/$(TARGET)/release/daemonproxy
# The shipped binary: cargo's output without unwind tables.
BIN     := build/$(TARGET)/daemonproxy
CARGO   ?= cargo
# mkinitramfs runs on the build machine, whatever TARGET the daemon is for.
HOST_TARGET ?= $(shell uname -m)-unknown-linux-musl
MKINITRAMFS := target/$(HOST_TARGET)/release/mkinitramfs

.PHONY: all build initramfs-tool test unit integration lint deps help clean

all: build

# The unwind tables are dead weight in a panic=abort binary: link.ld drops
# them at link time except crtbegin.o's own entry, which goes here.
OBJCOPY_x86_64-unknown-linux-musl  ?= objcopy
OBJCOPY_aarch64-unknown-linux-musl ?= aarch64-linux-gnu-objcopy

build: deps
	$(CARGO) build --release --target $(TARGET) --bin daemonproxy
	@mkdir -p $(dir $(BIN))
	$(OBJCOPY_$(TARGET)) -R .eh_frame -R .eh_frame_hdr $(CARGO_BIN) $(BIN)
	@ls -l $(BIN)

## initramfs-tool: the image builder, at $(MKINITRAMFS)
initramfs-tool: deps
	$(CARGO) build --release --target $(HOST_TARGET) -p mkinitramfs

## test: unit tests, the integration suite against the release binary, then
## the image builder's tests
test: build
	$(CARGO) test --release --target $(TARGET) --bins
	DAEMONPROXY_BIN=$(CURDIR)/$(BIN) $(CARGO) test --release --target $(TARGET) --test tests
	$(CARGO) test --release --target $(HOST_TARGET) -p mkinitramfs

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --target $(TARGET) --workspace --all-targets -- -D warnings

## deps: install what a fresh Debian machine lacks (musl target, strace, cpio)
deps:
	@sh ci/deps.sh

clean:
	$(CARGO) clean

help:
	@echo "make        build the static daemon ($(BIN))"
	@echo "make test   run unit and integration tests (installs prerequisites)"
	@echo "make lint   rustfmt and clippy"
	@echo "make initramfs-tool  build the image builder ($(MKINITRAMFS))"
