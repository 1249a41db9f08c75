#!/usr/bin/env bash
# Runs a kprobes test-kernel ELF under qemu-system-arm, and sets up a fresh machine.
#
#   ./qemu-runner.sh --setup
#       Installs what is missing: the armv7a-none-eabi target (rustup), and
#       qemu-system-arm (apt-get, when root; otherwise prints the command).
#   ./qemu-runner.sh [options] KERNEL.elf [options]
#       --board virt|vexpress-a15|raspi2b
#                                   default: from the ELF's entry address (RAM base:
#                                   0x4... virt, 0x8... vexpress-a15, 0x0... raspi2b)
#       --smp N                     CPUs, 1-4 (default 4; raspi2b: QEMU always has 4,
#                                   the kernel leaves cores >= N halted)
#       --icount                    deterministic instruction counting (-icount shift=0)
#       --timeout SECONDS           kill a hung guest (default 300)
#       --mode tests|demo|bench     what the kernel runs (default tests; the demo also
#                                   traces probe events: --capture); bench boots
#                                   twice and prints one table: the instruction rows
#                                   (mode bench-insn: -icount shift=0, -smp 1), then the
#                                   4-CPU rows (mode bench-smp: -smp 4, no icount)
#       --corpus FILE               run an instruction corpus (format: src/corpus.rs)
#       --events FILE               probe events: define the events FILE lists (one
#                                   `p:`/`r:` line each, see src/trace/definition.rs),
#                                   run a workload on every core (--rounds calls per
#                                   core, default 10000) and write the captures
#       --capture PATH              where the demo and events modes write their probe-
#                                   event captures (default target/demo-trace.kptf,
#                                   target/events.kptf); the runner then writes
#                                   PATH's .json twin (Perfetto) and prints latencies
#       --inject fail|hang          prove the harness notices a failure / a hang
#       --only SUB[,SUB...]         run only the kernel tests whose name contains one
#                                   of them (ASCII, at most 64 bytes; verdict line
#                                   unchanged)
#       --rounds N                  rounds of the churn and stress tests (default: each
#                                   test's own, e.g. 10000)
#       --non-broadcast             the kernel's cache operations report maintenance as
#                                   not broadcast (QEMU's CPUs say it is), so every CPU
#                                   runs the crate's per-CPU maintenance path
#       --gdb                       wait for gdb-multiarch on :1234 (-s -S)
#       --mttcg                     one host thread per vCPU (default: QEMU's round-robin
#                                   TCG, see below)
#
# Why round-robin TCG by default: under multi-threaded TCG, QEMU 7.2 implements YIELD
# as a no-op, so on this 2-core host four vCPUs spinning in a rendezvous only make
# progress when the host scheduler preempts them: ~20 rendezvous per second. Round-robin
# TCG switches vCPU at every YIELD and at every IPI: thousands per second. Every vCPU
# still interleaves with the others at translation-block granularity.
#   Exit status: the guest's own (semihosting), 124 on timeout, 127 if QEMU is missing.
#
# Also the cargo runner for armv7a-none-eabi (.cargo/config.toml): `cargo run ...
# -- --mode demo` passes the ELF first, then the options.
set -euo pipefail

die() { echo "qemu-runner: $*" >&2; exit 2; }

setup() {
    local here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    cd "$here"   # so rustup reads rust-toolchain.toml
    if ! rustup target list --installed 2>/dev/null | grep -qx armv7a-none-eabi; then
        echo "qemu-runner: installing the armv7a-none-eabi target"
        rustup target add armv7a-none-eabi
    fi
    for c in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
            echo "qemu-runner: installing $c"
            rustup component add "$c"
        fi
    done
    if ! command -v qemu-system-arm >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            echo "qemu-runner: installing qemu-system-arm"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
        else
            echo "qemu-runner: qemu-system-arm is missing; run: sudo apt-get install -y qemu-system-arm" >&2
            exit 1
        fi
    fi
    command -v timeout >/dev/null || die "coreutils 'timeout' is missing"
    echo "qemu-runner: setup complete ($(qemu-system-arm --version | head -1))"
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
board="" mem=256M smp=4 mttcg=0 icount=0 timeout_s=300 mode=tests inject="" gdb=0 elf="" corpus="" only="" rounds=0 non_broadcast=0
events="" capture=""
while [ $# -gt 0 ]; do
    case "$1" in
        --setup) setup; exit 0 ;;
        --board) board="${2:?--board needs a value}"; shift 2 ;;
        --smp) smp="${2:?--smp needs a value}"; shift 2 ;;
        --icount) icount=1; shift ;;
        --timeout) timeout_s="${2:?--timeout needs a value}"; shift 2 ;;
        --mode) mode="${2:?--mode needs a value}"; shift 2 ;;
        --corpus) corpus="${2:?--corpus needs a file}"; mode=corpus; shift 2 ;;
        --events) events="${2:?--events needs a file}"; mode=events; shift 2 ;;
        --capture) capture="${2:?--capture needs a path}"; shift 2 ;;
        --inject) inject="${2:?--inject needs a value}"; shift 2 ;;
        --only) only="${2:?--only needs a substring}"; shift 2 ;;
        --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
        --non-broadcast) non_broadcast=1; shift ;;
        --gdb) gdb=1; shift ;;
        --mttcg) mttcg=1; shift ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$elf" ] || die "two kernels given: $elf and $1"; elf="$1"; shift ;;
    esac
done
[ -n "$elf" ] || die "no kernel ELF given (see --help)"
[ -f "$elf" ] || die "no such kernel: $elf"

if ! command -v qemu-system-arm >/dev/null; then
    echo "qemu-runner: qemu-system-arm not found; fix: ./qemu-runner.sh --setup" >&2
    exit 127
fi

# The board a kernel was built for shows in its entry address (its RAM base).
entry=$(od -An -t x4 -j 24 -N 4 "$elf" | tr -d ' ')
case "$entry" in
    4*) built_for=virt ;;
    8*) built_for=vexpress-a15 ;;
    0*) built_for=raspi2b ;;
    *) built_for="" ;;
esac
if [ -z "$board" ]; then
    [ -n "$built_for" ] || die "cannot tell the board from entry 0x$entry; pass --board"
    board="$built_for"
elif [ -n "$built_for" ] && [ "$board" != "$built_for" ]; then
    # Booted anyway, it would load where the other board has no RAM (or its console is
    # elsewhere) and hang silently until the timeout.
    die "$elf was built for $built_for (entry 0x$entry), not $board: build it with --features board-$board"
fi

case "$board" in
    virt) ram=0x40000000; machine=(-M virt -cpu cortex-a15) ;;
    vexpress-a15) ram=0x80000000
        machine=(-M vexpress-a15 -audiodev none,id=snd0 -global pl041.audiodev=snd0) ;;
    # BCM2836: four Cortex-A7, RAM at 0; QEMU accepts only -m 1G for this machine.
    # QEMU starts all 4 cores whatever -smp says (fewer is refused): with --smp N < 4
    # the kernel's boot arguments say N and the other cores halt in WFI, never online.
    raspi2b) ram=0x0; mem=1G; machine=(-M raspi2b) ;;
    *) die "unknown board $board (virt, vexpress-a15 or raspi2b)" ;;
esac
# The benchmark: two boots of the same kernel, one table. Boot 1 prints the table's
# header and rows last; boot 2's rows (and its note) are appended to them.
if [ "$mode" = bench ]; then
    out1="$(mktemp)" out2="$(mktemp)"
    trap 'rm -f "$out1" "$out2"' EXIT
    "$0" "$elf" --board "$board" --mode bench-insn --timeout "$timeout_s" >"$out1" 2>&1 \
        || { s=$?; cat "$out1"; exit "$s"; }
    "$0" "$elf" --board "$board" --mode bench-smp --timeout "$timeout_s" >"$out2" 2>&1 \
        || { s=$?; cat "$out1" "$out2"; exit "$s"; }
    cat "$out1"
    sed -n '/^| /,$p' "$out2"
    exit 0
fi
case "$mode" in
    tests) mode_n=0 ;; demo) mode_n=1 ;; corpus) mode_n=2 ;; events) mode_n=5 ;;
    bench-insn) mode_n=3; icount=1; smp=1 ;;   # guest instructions need one CPU + icount
    bench-smp) mode_n=4; icount=0; smp=4 ;;
    *) die "unknown mode $mode" ;;
esac
case "$inject" in "") inject_n=0 ;; fail) inject_n=1 ;; hang) inject_n=2 ;; *) die "unknown injection $inject" ;; esac

# Boot arguments at RAM + 240 MiB (BOOTARGS_BASE in link.ld): magic, mode, injection,
# CPUs (so the kernel waits only for those), the test filter's length (its bytes at
# +0x40), the stress tests' rounds (0: their own), forced non-broadcast maintenance.
args=$((ram + 0x0f000000))
bootargs=()
word() { bootargs+=(-device "loader,addr=$(printf '0x%x' "$1"),data=$2,data-len=4"); }
word "$args" 0x4b505242
word $((args + 4)) "$mode_n"
word $((args + 8)) "$inject_n"
word $((args + 12)) "$smp"
word $((args + 16)) "${#only}"
case "$rounds" in ''|*[!0-9]*) die "--rounds: a number" ;; esac
word $((args + 20)) "$rounds"
word $((args + 24)) "$non_broadcast"
# Text at addr, four bytes per little-endian word, the last one zero-padded.
text() {
    local addr=$1 s=$2 i j c b w
    for ((i = 0; i < ${#s}; i += 4)); do
        w=0
        for ((j = 3; j >= 0; j--)); do
            c="${s:i+j:1}"
            b=0; [ -n "$c" ] && b=$(printf '%d' "'$c")
            w=$(( (w << 8) | b ))
        done
        word $((addr + i)) "$(printf '0x%08x' "$w")"
    done
}
if [ -n "$only" ]; then
    [ "${#only}" -le 64 ] || die "--only: at most 64 bytes"
    LC_ALL=C; case "$only" in *[![:print:]]*) die "--only: printable ASCII only" ;; esac
    text $((args + 0x40)) "$only"
fi
# Probe-event captures (demo and events modes): the host path the kernel writes them to
# through semihosting, at +0x80 (its length in word 7).
if [ "$mode" = demo ] || [ "$mode" = events ]; then
    [ -n "$capture" ] || capture="$here/target/$([ "$mode" = demo ] && echo demo-trace || echo events).kptf"
    mkdir -p "$(dirname "$capture")"
    capture="$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")"
    LC_ALL=C; case "$capture" in *[![:print:]]*) die "--capture: printable ASCII only" ;; esac
    [ "${#capture}" -le 128 ] || die "--capture: the absolute path is over 128 bytes: $capture"
    rm -f "$capture"
    word $((args + 28)) "${#capture}"
    text $((args + 0x80)) "$capture"
elif [ -n "$capture" ]; then
    die "--capture: only with --mode demo or --events"
fi

extra=()
if [ -n "$corpus" ]; then
    [ -f "$corpus" ] || die "no such corpus: $corpus"
    packed="$(mktemp)"
    trap 'rm -f "$packed"' EXIT
    CARGO_TARGET_DIR="$here/target/host-tools" cargo run -q --manifest-path "$here/Cargo.toml" \
        --features std,lab --bin kprobes-corpus -- pack "$corpus" "$packed" || exit 2
    extra+=(-device "loader,file=$packed,addr=$(printf '0x%x' $((args + 0x1000))),force-raw=on")
fi
if [ -n "$events" ]; then
    [ -f "$events" ] || die "no such event list: $events"
    size=$(wc -c <"$events")
    [ "$size" -gt 0 ] || die "--events: $events is empty"
    [ "$size" -le $((0x00fff000)) ] || die "--events: $events is too large"
    word $((args + 32)) "$size"
    extra+=(-device "loader,file=$events,addr=$(printf '0x%x' $((args + 0x1000))),force-raw=on")
fi
[ "$icount" = 1 ] && extra+=(-icount shift=0)
[ "$mttcg" = 1 ] || [ "$icount" = 1 ] || extra+=(-accel tcg,thread=single)
[ "$gdb" = 1 ] && extra+=(-s -S)

qemu_smp="$smp"
case "$smp" in ''|*[!0-9]*|0) die "--smp: a number from 1 to 4" ;; esac
[ "$smp" -le 4 ] || die "--smp: at most 4 (the kernel is built for 4 cores)"
if [ "$board" = raspi2b ]; then qemu_smp=4; fi

set +e
timeout --foreground -k 5 "$timeout_s" qemu-system-arm "${machine[@]}" -smp "$qemu_smp" -m "$mem" \
    -display none -monitor none -serial stdio -semihosting \
    "${bootargs[@]}" "${extra[@]}" -kernel "$elf" </dev/null
status=$?
set -e
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "qemu-runner: TIMEOUT: the guest did not exit within ${timeout_s}s and was killed" >&2
    exit 124
fi
# The probe-event captures, readable: Chrome trace-event JSON beside them (Perfetto) and
# the latency summary, by the host tool kprobes-trace.
if [ "$status" = 0 ] && [ -n "$capture" ] && [ -s "$capture" ]; then
    json="${capture%.kptf}.json"
    trace() {
        CARGO_TARGET_DIR="$here/target/host-tools" cargo run -q --manifest-path "$here/Cargo.toml" \
            --features std,lab --bin kprobes-trace -- "$@"
    }
    trace json "$capture" "$json" || exit 2
    trace latency "$capture" || exit 2
    echo "qemu-runner: probe events: $json (open it in https://ui.perfetto.dev); text: cargo run --features std --bin kprobes-trace -- text $capture"
fi
exit "$status"
