#!/bin/sh
# sstrip FILE: drop what follows the last loaded segment of a 64-bit
# little-endian ELF executable (the section name table and the section
# header table) and clear the header's pointers to them, as ELFkickers'
# sstrip does for firmware images. The kernel loads an executable through
# its program headers only; tools that want sections (objdump, gdb) need
# the unstripped binary under target/.
set -eu
f=$1
num() { od -An -v -t u"$2" -j "$1" -N "$2" "$f" | tr -d ' '; }
[ "$(od -An -c -N 4 "$f" | tr -d ' ')" = '177ELF' ] || { echo "sstrip: $f: not ELF" >&2; exit 1; }
[ "$(num 4 1)" = 2 ] && [ "$(num 5 1)" = 1 ] || { echo "sstrip: $f: not 64-bit little-endian" >&2; exit 1; }
phoff=$(num 32 8)
phentsize=$(num 54 2)
phnum=$(num 56 2)
end=$((phoff + phentsize * phnum))
i=0
while [ "$i" -lt "$phnum" ]; do
    ph=$((phoff + i * phentsize))
    e=$(($(num $((ph + 8)) 8) + $(num $((ph + 32)) 8)))
    [ "$e" -gt "$end" ] && end=$e
    i=$((i + 1))
done
size=$(wc -c < "$f")
[ "$end" -le "$size" ] || { echo "sstrip: $f: segments past the end of the file" >&2; exit 1; }
# e_shoff (8 bytes at 40), then e_shentsize, e_shnum, e_shstrndx (2 each at 58).
printf '\0\0\0\0\0\0\0\0' | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null
printf '\0\0\0\0\0\0' | dd of="$f" bs=1 seek=58 conv=notrunc 2>/dev/null
truncate -s "$end" "$f"
