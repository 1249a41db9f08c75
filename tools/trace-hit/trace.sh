#!/bin/bash
# Where one probed call's guest instructions go: boots KERNEL in bench-insn mode under
# gdb, stops at the first call of FNNAME (default bench_fn) after the bench row ROW
# starts, single-steps that call to its return and prints the instructions per function
# (and, with DETAIL=1, every executed instruction from the disassembly).
# Needs gdb-multiarch and llvm-objdump/llvm-nm (not installed by the project's setup:
# `apt-get install -y gdb-multiarch llvm`). Uses gdb port 1234 (qemu-runner.sh --gdb).
# usage: tools/trace-hit/trace.sh KERNEL-ELF ROW [SKIP]
#   e.g. tools/trace-hit/trace.sh target/armv7a-none-eabi/release/kprobes-test-kernel breakpoint_empty_pre
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
elf=$1 row=$2 skip=${3:-0}
out=$(mktemp --suffix=.json)
rowaddr=$(llvm-nm -C "$elf" | grep "bench::$row::" | awk '{print $1}' | head -1)
fnaddr=$(llvm-nm "$elf" | awk -v f="${FNNAME:-bench_fn}" '$3==f{print $1}')
[ -n "$rowaddr" ] || { echo "no bench row function bench::$row in $elf" >&2; exit 2; }
"$root/qemu-runner.sh" "$elf" --mode bench-insn --gdb --timeout 600 >/dev/null 2>&1 &
qemu=$!
sleep 1
ROW=$rowaddr FN=$fnaddr PORT=1234 OUT=$out SKIP=$skip \
    gdb-multiarch -batch -nx -x "$here/trace-gdb.py" >/dev/null 2>&1 || true
kill "$qemu" 2>/dev/null || true
python3 "$here/analyze.py" "$elf" "$out"
[ "${DETAIL:-0}" = 1 ] && python3 "$here/detail.py" "$elf" "$out"
rm -f "$out"
