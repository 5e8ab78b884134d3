#!/bin/sh
# sstrip FILE: drop what follows the last loaded segment of an ELF
# executable (the section name table and the section header table) and clear
# the header's pointers to them, as ELFkickers' sstrip does for firmware
# images. ELF32 and ELF64, either byte order. The kernel loads an executable
# through its program headers only; tools that want sections (objdump, gdb)
# need the unstripped binary under target/.
set -eu
f=$1
[ "$(od -An -c -N 4 "$f" | tr -d ' ')" = '177ELF' ] || { echo "sstrip: $f: not ELF" >&2; exit 1; }
byte() { od -An -v -t u1 -j "$1" -N 1 "$f" | tr -d ' '; }
class=$(byte 4) data=$(byte 5)
# num OFFSET SIZE: an unsigned field in the file's byte order.
num() {
    od -An -v -t u1 -j "$1" -N "$2" "$f" | awk -v big="$((data == 2))" '
        { for (i = 1; i <= NF; i++) b[n++] = $i }
        END { v = 0
              for (i = 0; i < n; i++) v = v * 256 + b[big ? i : n - 1 - i]
              printf "%.0f\n", v }'
}
case $class.$data in
1.1 | 1.2) # ELF32: e_phoff, e_shoff at 28, 32; e_phentsize, e_phnum at 42, 44
    phoff=$(num 28 4) phentsize=$(num 42 2) phnum=$(num 44 2)
    ph_offset=4 ph_filesz=16 word=4 shoff=32 shfields=46 ;;
2.1 | 2.2) # ELF64: e_phoff, e_shoff at 32, 40; e_phentsize, e_phnum at 54, 56
    phoff=$(num 32 8) phentsize=$(num 54 2) phnum=$(num 56 2)
    ph_offset=8 ph_filesz=32 word=8 shoff=40 shfields=58 ;;
*) echo "sstrip: $f: unknown ELF class $class or byte order $data" >&2; exit 1 ;;
esac
end=$((phoff + phentsize * phnum))
i=0
while [ "$i" -lt "$phnum" ]; do
    ph=$((phoff + i * phentsize))
    e=$(($(num $((ph + ph_offset)) $word) + $(num $((ph + ph_filesz)) $word)))
    [ "$e" -gt "$end" ] && end=$e
    i=$((i + 1))
done
size=$(wc -c < "$f")
[ "$end" -le "$size" ] || { echo "sstrip: $f: segments past the end of the file" >&2; exit 1; }
# e_shoff (one word), then e_shentsize, e_shnum, e_shstrndx (2 bytes each).
dd if=/dev/zero of="$f" bs=1 seek="$shoff" count="$word" conv=notrunc 2>/dev/null
dd if=/dev/zero of="$f" bs=1 seek="$shfields" count=6 conv=notrunc 2>/dev/null
truncate -s "$end" "$f"
