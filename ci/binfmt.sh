#!/bin/sh
# binfmt.sh ARCH: lets this machine run ARCH's static executables directly,
# through qemu-user and the kernel's binfmt_misc (needs root the first
# time: mounts binfmt_misc if needed and registers qemu-ARCH). The magic
# and mask are those of QEMU's scripts/qemu-binfmt-conf.sh: an ELF
# executable of the machine type, any OS ABI. F opens the interpreter
# now, so it works in other mount namespaces too.
set -eu
arch=$1
elf='\x7fELF'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
case $arch in
x86_64 | aarch64) [ "$(uname -m)" = "$arch" ] && exit 0 ;;
esac
case $arch in
aarch64) qemu=aarch64 magic="$elf"'\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' ;;
armv7) qemu=arm magic="$elf"'\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00' ;;
riscv64) qemu=riscv64 magic="$elf"'\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00' ;;
mipsel) # lld writes EI_ABIVERSION 1 (non-PIC executable): ignore bytes 8-15.
    qemu=mipsel magic="$elf"'\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00'
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\xfe\xff\xff\xff' ;;
x86_64) qemu=x86_64 magic="$elf"'\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00' ;;
*) echo "binfmt: unknown architecture $arch" >&2; exit 2 ;;
esac
interp=$(command -v "qemu-$qemu") || { echo "binfmt: no qemu-$qemu (make deps installs qemu-user)" >&2; exit 1; }
dir=/proc/sys/fs/binfmt_misc
[ -e "$dir/register" ] || mount binfmt_misc -t binfmt_misc "$dir"
[ -e "$dir/qemu-$qemu" ] && exit 0
printf ':qemu-%s:M::%s:%s:%s:F\n' "$qemu" "$magic" "$mask" "$interp" >"$dir/register"
echo "binfmt: qemu-$qemu registered for $arch executables" >&2
