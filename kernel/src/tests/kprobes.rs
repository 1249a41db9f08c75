//! Breakpoint kprobes on the real machine: the API on real text, handlers that see and
//! change registers, conditions, symbols, reentrancy, and 4 cores hitting probes while
//! core 0 registers and unregisters them.

use crate::cache::KernelCacheOps;
use crate::platform::{PLATFORM, QemuPlatform};
use crate::probes::{KPROBES, RENDEZVOUS};
use crate::testing::TestResult;
use crate::tests::thumb_probes;
use crate::{ensure, smp};
use alloc::vec::Vec;
use armv7_kprobes::decode::RejectReason;
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Kprobes, ProbeState, SymbolLookup};
use armv7_kprobes::stop_machine::RunOn;
use armv7_kprobes::{Platform, TrapFrame};
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

// Functions to probe, with known instructions at known offsets.
// SAFETY: each is an AAPCS function: arguments in r0/r1, result in r0, callee-saved
// registers preserved (kp_push saves r4 and lr on the stack and restores them).
core::arch::global_asm!(
    ".pushsection .text.kp_targets, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kp_add",
    "kp_add:",              // u32 kp_add(a, b) = a + b
    "    add   r0, r0, r1", // +0: probe site
    "    bx    lr",
    "kp_add_end:",
    ".global kp_cond",
    "kp_cond:", // u32 kp_cond(a, b) = a != 0 ? a + b : 0
    "    cmp   r0, #0",
    "    addne r0, r0, r1", // +4: conditional probe site
    "    bx    lr",
    "kp_cond_end:",
    ".global kp_push",
    "kp_push:",             // u32 kp_push(a) = 2a, through the stack
    "    push  {{r4, lr}}", // +0: writes 8 bytes below sp
    "    add   r4, r0, r0",
    "    mov   r0, r4",
    "    pop   {{r4, pc}}", // +12: loads pc
    "kp_push_end:",
    ".global kp_ldrex",
    "kp_ldrex:",
    "    ldrex r0, [r0]", // rejected: exclusive
    "    bx    lr",
    "kp_ldrex_end:",
    ".global kp_bigstack",
    "kp_bigstack:",
    "    str   r0, [sp, #-256]!", // rejected: writes 256 bytes below sp
    "    add   sp, sp, #256",
    "    bx    lr",
    "kp_bigstack_end:",
    ".global kp_per_cpu",
    "kp_per_cpu:", // four one-instruction functions: r0 = r0 + 1
    "    add   r0, r0, #1",
    "    bx    lr",
    "    add   r0, r0, #1",
    "    bx    lr",
    "    add   r0, r0, #1",
    "    bx    lr",
    "    add   r0, r0, #1",
    "    bx    lr",
    "kp_per_cpu_end:",
    ".global kp_symbols",
    "kp_symbols:",
    "    .word kp_add, kp_add_end, kp_cond, kp_cond_end, kp_push, kp_push_end",
    "    .word kp_ldrex, kp_ldrex_end, kp_bigstack, kp_bigstack_end",
    "    .word kp_per_cpu, kp_per_cpu_end",
    ".popsection",
);

unsafe extern "C" {
    fn kp_add(a: u32, b: u32) -> u32;
    fn kp_cond(a: u32, b: u32) -> u32;
    fn kp_push(a: u32) -> u32;
    fn kp_ldrex(p: *const u32) -> u32;
    fn kp_bigstack(a: u32) -> u32;
    fn kp_per_cpu();
    static kp_symbols: [usize; 12];
}

fn addr(f: unsafe extern "C" fn()) -> usize {
    f as *const () as usize
}

pub fn add(a: u32, b: u32) -> u32 {
    // SAFETY: kp_add is the AAPCS function above.
    unsafe { kp_add(a, b) }
}

pub fn cond(a: u32, b: u32) -> u32 {
    // SAFETY: kp_cond is the AAPCS function above.
    unsafe { kp_cond(a, b) }
}

pub fn push(a: u32) -> u32 {
    // SAFETY: kp_push is the AAPCS function above.
    unsafe { kp_push(a) }
}

/// The address of the i-th of the four `add r0, r0, #1; bx lr` functions.
pub fn a_per_cpu(i: usize) -> usize {
    addr(kp_per_cpu) + 8 * i
}

/// The i-th of the four `add r0, r0, #1; bx lr` functions.
pub fn per_cpu(i: usize, a: u32) -> u32 {
    let f = addr(kp_per_cpu) + 8 * i;
    // SAFETY: kp_per_cpu + 8i (i < 4) is the start of one of the four AAPCS functions.
    unsafe { core::mem::transmute::<usize, extern "C" fn(u32) -> u32>(f)(a) }
}

pub fn a_add() -> usize {
    kp_add as *const () as usize
}
pub fn a_cond() -> usize {
    kp_cond as *const () as usize
}
pub fn a_push() -> usize {
    kp_push as *const () as usize
}

/// The kernel's own functions, by name.
pub struct KernelSymbols;

impl SymbolLookup for KernelSymbols {
    fn lookup(&self, name: &str) -> Option<Range<usize>> {
        const NAMES: [&str; 6] = [
            "kp_add",
            "kp_cond",
            "kp_push",
            "kp_ldrex",
            "kp_bigstack",
            "kp_per_cpu",
        ];
        let i = NAMES.iter().position(|n| *n == name)?;
        // SAFETY: kp_symbols is the constant table of label addresses above.
        let t = unsafe { &*core::ptr::addr_of!(kp_symbols) };
        Some(t[2 * i]..t[2 * i + 1])
    }
}

pub fn text_snapshot() -> Vec<u32> {
    let t = PLATFORM.kernel_text();
    (t.start..t.end)
        .step_by(4)
        // SAFETY: kernel text is mapped readable.
        .map(|a| unsafe { core::ptr::read_volatile(a as *const u32) })
        .collect()
}

pub fn word(a: usize) -> u32 {
    // SAFETY: `a` is a kernel text address, mapped readable.
    unsafe { core::ptr::read_volatile(a as *const u32) }
}

static PLAIN: Kprobe = Kprobe::new(None, None, 0);
static PLAIN2: Kprobe = Kprobe::new(None, None, 0);

pub fn every_registration_error_leaves_text_and_registry_unchanged() -> TestResult {
    let before = text_snapshot();
    let sites = KPROBES.sites();
    let vectors = PLATFORM.never_probe()[0].start;
    // A word inside the noprobe range: the vector table itself.
    let cases: [(usize, KprobeError); 7] = [
        (a_add() + 2, KprobeError::Misaligned { addr: a_add() + 2 }),
        // A Thumb address (bit 0 set) inside the never-probe range.
        (
            vectors + 1,
            KprobeError::NeverProbe {
                addr: vectors + 1,
                range: (vectors, PLATFORM.never_probe()[0].end),
            },
        ),
        (
            &PLAIN as *const Kprobe as usize,
            KprobeError::OutsideText {
                addr: &PLAIN as *const Kprobe as usize,
            },
        ),
        (
            vectors + 4,
            KprobeError::NeverProbe {
                addr: vectors + 4,
                range: (vectors, PLATFORM.never_probe()[0].end),
            },
        ),
        (
            kp_ldrex as *const () as usize,
            KprobeError::Rejected {
                addr: kp_ldrex as *const () as usize,
                word: 0xe190_0f9f,
                reason: RejectReason::Exclusive,
            },
        ),
        (
            kp_bigstack as *const () as usize,
            KprobeError::StackWrite {
                addr: kp_bigstack as *const () as usize,
                bytes: Some(256),
            },
        ),
        (
            PLATFORM.kernel_text().end,
            KprobeError::OutsideText {
                addr: PLATFORM.kernel_text().end,
            },
        ),
    ];
    for (a, expect) in cases {
        let got = KPROBES.register(&PLAIN, a);
        ensure!(
            got == Err(expect),
            "register at {a:#x}: {got:?}, want {expect:?}"
        );
    }
    ensure!(
        KPROBES.unregister(&PLAIN) == Err(KprobeError::NotRegistered),
        "unregister unregistered"
    );
    ensure!(
        KPROBES.disable(&PLAIN) == Err(KprobeError::NotRegistered),
        "disable unregistered"
    );
    ensure!(
        KPROBES.enable(&PLAIN) == Err(KprobeError::NotRegistered),
        "enable unregistered"
    );
    let s = &KernelSymbols;
    ensure!(
        KPROBES.register_symbol(&PLAIN, s, "nope", 0) == Err(KprobeError::UnknownSymbol),
        "unknown symbol"
    );
    ensure!(
        KPROBES.register_symbol(&PLAIN, s, "kp_push", 2)
            == Err(KprobeError::MisalignedOffset { offset: 2 }),
        "misaligned offset"
    );
    ensure!(
        KPROBES.register_symbol(&PLAIN, s, "kp_push", 16)
            == Err(KprobeError::OffsetOutsideSymbol {
                offset: 16,
                size: 16
            }),
        "offset outside"
    );
    // Already registered.
    KPROBES
        .register(&PLAIN, a_add())
        .map_err(|e| alloc::format!("{e}"))?;
    let again = KPROBES.register(&PLAIN, a_cond() + 4);
    ensure!(
        again == Err(KprobeError::AlreadyRegistered { addr: a_add() }),
        "{again:?}"
    );
    // Too many at one address.
    static MANY: [Kprobe; 8] = [const { Kprobe::new(None, None, 0) }; 8];
    for p in &MANY[..7] {
        KPROBES
            .register(p, a_add())
            .map_err(|e| alloc::format!("{e}"))?;
    }
    let full = KPROBES.register(&MANY[7], a_add());
    ensure!(
        full == Err(KprobeError::TooManyAtAddress { addr: a_add() }),
        "{full:?}"
    );
    // From inside a rendezvous: refused, nothing changes.
    let inside = AtomicU32::new(0);
    RENDEZVOUS
        .run(&PLATFORM, RunOn::OneCpu(0), &|_| {
            let r = KPROBES.register(&PLAIN2, a_cond() + 4);
            let u = KPROBES.unregister(&MANY[0]);
            // A callback runs with IRQs masked: refused before the registry lock.
            let ok = matches!(r, Err(KprobeError::InterruptsMasked { cpu: 0 }))
                && matches!(u, Err(KprobeError::InterruptsMasked { cpu: 0 }));
            inside.store(ok as u32 + 1, Ordering::Relaxed);
        })
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        inside.load(Ordering::Relaxed) == 2,
        "nested probe operations were not refused as expected"
    );
    ensure!(
        PLAIN2.state() == ProbeState::Unregistered,
        "PLAIN2 registered from a callback"
    );
    // Out of sites: a tiny registry on the same machine.
    static SMALL: Kprobes<QemuPlatform, KernelCacheOps, 2> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
    SMALL
        .register(&PLAIN2, a_push())
        .map_err(|e| alloc::format!("{e}"))?;
    static THIRD: Kprobe = Kprobe::new(None, None, 0);
    ensure!(
        SMALL.register(&THIRD, a_cond()) == Err(KprobeError::OutOfSites),
        "out of sites"
    );
    SMALL
        .unregister(&PLAIN2)
        .map_err(|e| alloc::format!("{e}"))?;
    for p in MANY[..7].iter().chain([&PLAIN]) {
        KPROBES.unregister(p).map_err(|e| alloc::format!("{e}"))?;
    }
    ensure!(text_snapshot() == before, "text changed");
    ensure!(KPROBES.sites() == sites, "sites leaked");
    Ok(())
}

pub fn state_transitions_write_and_restore_text_exactly() -> TestResult {
    let a = a_cond() + 4;
    let original = word(a);
    ensure!(
        original == 0x1080_0001,
        "kp_cond+4 is {original:#x}, not addne r0, r0, r1"
    );
    KPROBES
        .register(&PLAIN, a)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        word(a) == 0x17f0_01f8,
        "armed word {:#x} (breakpoint with cond NE expected)",
        word(a)
    );
    ensure!(PLAIN.state() == ProbeState::Enabled, "state");
    KPROBES.disable(&PLAIN).map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        word(a) == original && PLAIN.state() == ProbeState::Disabled,
        "disable"
    );
    KPROBES.enable(&PLAIN).map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        word(a) == 0x17f0_01f8 && PLAIN.state() == ProbeState::Enabled,
        "enable"
    );
    KPROBES
        .unregister(&PLAIN)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        word(a) == original && PLAIN.state() == ProbeState::Unregistered,
        "unregister"
    );
    KPROBES
        .register_symbol(&PLAIN, &KernelSymbols, "kp_cond", 4)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        PLAIN.addr() == Some(a) && word(a) == 0x17f0_01f8,
        "by symbol"
    );
    KPROBES
        .unregister(&PLAIN)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(word(a) == original, "restored");
    Ok(())
}

static SEEN: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];

fn see_args(_: &Kprobe, f: &mut TrapFrame) {
    SEEN[0].store(f.r[0], Ordering::Relaxed);
    SEEN[1].store(f.r[1], Ordering::Relaxed);
}

fn add_thousand(_: &Kprobe, f: &mut TrapFrame) {
    f.r[0] += 1000;
}

static ARGS: Kprobe = Kprobe::new(Some(see_args), Some(add_thousand), 7);

pub fn handlers_see_arguments_and_change_the_result() -> TestResult {
    KPROBES
        .register(&ARGS, a_add())
        .map_err(|e| alloc::format!("{e}"))?;
    let r = add(20, 22);
    let seen = (
        SEEN[0].load(Ordering::Relaxed),
        SEEN[1].load(Ordering::Relaxed),
    );
    KPROBES
        .unregister(&ARGS)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(seen == (20, 22), "pre saw {seen:?}");
    ensure!(r == 1042, "post handler's change lost: {r}");
    ensure!(
        ARGS.hits() == 1 && ARGS.missed() == 0,
        "hits {} missed {}",
        ARGS.hits(),
        ARGS.missed()
    );
    ensure!(add(20, 22) == 42, "unprobed result");
    Ok(())
}

static COND: Kprobe = Kprobe::new(None, None, 0);

pub fn conditional_probe_fires_only_when_its_condition_passes() -> TestResult {
    KPROBES
        .register(&COND, a_cond() + 4)
        .map_err(|e| alloc::format!("{e}"))?;
    let (r0, r1, r2) = (cond(0, 5), cond(3, 5), cond(0, 9));
    KPROBES
        .unregister(&COND)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!((r0, r1, r2) == (0, 8, 0), "results {r0} {r1} {r2}");
    ensure!(
        COND.hits() == 1,
        "fired {} times for one passing condition",
        COND.hits()
    );
    Ok(())
}

static SHARED: Kprobe = Kprobe::new(None, None, 0);
static OWN: [Kprobe; 4] = [const { Kprobe::new(None, None, 0) }; 4];
static PUSHES: Kprobe = Kprobe::new(None, None, 0);
const CALLS: u32 = 20_000;

pub fn four_cores_hitting_same_and_different_probes_count_exactly() -> TestResult {
    KPROBES
        .register(&SHARED, a_add())
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .register(&PUSHES, a_push())
        .map_err(|e| alloc::format!("{e}"))?;
    for (i, p) in OWN.iter().enumerate() {
        KPROBES
            .register(p, addr(kp_per_cpu) + 8 * i)
            .map_err(|e| alloc::format!("{e}"))?;
    }
    let wrong = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| {
        for i in 0..CALLS {
            if add(i, cpu as u32) != i + cpu as u32 || push(i) != 2 * i || per_cpu(cpu, i) != i + 1
            {
                wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let cores = smp::online_mask().count_ones() as u64;
    let counts = (
        SHARED.hits(),
        PUSHES.hits(),
        OWN.iter().map(Kprobe::hits).collect::<Vec<_>>(),
    );
    for p in OWN.iter().chain([&SHARED, &PUSHES]) {
        KPROBES.unregister(p).map_err(|e| alloc::format!("{e}"))?;
    }
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results",
        wrong.load(Ordering::Relaxed)
    );
    ensure!(
        counts.0 == cores * CALLS as u64,
        "shared probe counted {} of {}",
        counts.0,
        cores * CALLS as u64
    );
    ensure!(
        counts.1 == cores * CALLS as u64,
        "push probe counted {}",
        counts.1
    );
    for (cpu, n) in counts.2.iter().enumerate() {
        let want = if smp::online_mask() & (1 << cpu) != 0 {
            CALLS as u64
        } else {
            0
        };
        ensure!(*n == want, "cpu {cpu}'s own probe counted {n}, want {want}");
    }
    Ok(())
}

fn call_probed(_: &Kprobe, f: &mut TrapFrame) {
    // A handler that itself runs a probed function.
    f.r[1] = push(f.r[1]);
}

static OUTER: Kprobe = Kprobe::new(Some(call_probed), None, 0);
static INNER: Kprobe = Kprobe::new(None, None, 0);

pub fn a_handler_calling_a_probed_function_counts_missed_and_keeps_results() -> TestResult {
    KPROBES
        .register(&OUTER, a_add())
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .register(&INNER, a_push())
        .map_err(|e| alloc::format!("{e}"))?;
    let via_handler = add(1, 10); // pre handler doubles r1 through kp_push: 1 + 20
    let direct = push(5);
    KPROBES
        .unregister(&OUTER)
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .unregister(&INNER)
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        via_handler == 21 && direct == 10,
        "results {via_handler} {direct}"
    );
    ensure!(
        OUTER.hits() == 1 && OUTER.missed() == 0,
        "outer {}/{}",
        OUTER.hits(),
        OUTER.missed()
    );
    ensure!(
        INNER.hits() == 1 && INNER.missed() == 1,
        "inner hits {} missed {}",
        INNER.hits(),
        INNER.missed()
    );
    Ok(())
}

static CHURN: [Kprobe; 5] = [const { Kprobe::new(None, None, 0) }; 5];
const ROUNDS: u32 = 10_000;

pub fn churn_on_core0_while_three_cores_call_probed_functions() -> TestResult {
    let before = text_snapshot();
    let rounds = crate::bootargs::rounds(ROUNDS);
    let stop = AtomicBool::new(false);
    let (wrong, calls) = (AtomicU32::new(0), AtomicU32::new(0));
    // A32 sites, then Thumb ones: a 32-bit instruction across a word boundary, and
    // one last in an IT block.
    let sites = [
        a_add(),
        a_cond() + 4,
        a_push(),
        thumb_probes::a_add() + 2,
        thumb_probes::a_it() + 6,
    ];
    let failure: core::cell::Cell<Option<KprobeError>> = core::cell::Cell::new(None);
    let failure_ref = &failure as *const _ as usize;
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            // SAFETY: only core 0 touches `failure`.
            let failure =
                unsafe { &*(failure_ref as *const core::cell::Cell<Option<KprobeError>>) };
            for round in 0..rounds {
                let i = round as usize % sites.len();
                let (p, a) = (&CHURN[i], sites[i]);
                let r = KPROBES
                    .register(p, a)
                    .and_then(|_| KPROBES.disable(p))
                    .and_then(|_| KPROBES.enable(p))
                    .and_then(|_| KPROBES.unregister(p));
                if let Err(e) = r {
                    failure.set(Some(e));
                    break;
                }
            }
            stop.store(true, Ordering::Release);
        } else {
            let mut i = 0u32;
            while !stop.load(Ordering::Acquire) {
                i = i.wrapping_add(1);
                let thumb_it = if i == 0 { 10 } else { i.wrapping_add(20) };
                if add(i, 3) != i + 3
                    || cond(i & 1, 4) != if i & 1 != 0 { 5 } else { 0 }
                    || push(i) != 2 * i
                    || thumb_probes::add(i, 3) != i.wrapping_add(6)
                    || thumb_probes::it(i) != thumb_it
                {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                calls.fetch_add(1, Ordering::Relaxed);
                // Under QEMU's round-robin TCG a vCPU that never yields keeps core 0
                // (and every rendezvous) waiting for its whole time slice.
                core::hint::spin_loop();
            }
        }
    });
    ensure!(
        failure.get().is_none(),
        "churn failed: {}",
        failure.get().unwrap()
    );
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results",
        wrong.load(Ordering::Relaxed)
    );
    ensure!(
        calls.load(Ordering::Relaxed) > 0,
        "the other cores made no calls"
    );
    ensure!(
        text_snapshot() == before,
        "text differs from the original after churn"
    );
    crate::kprint!(
        "\n     churn: {rounds} rounds (4 text changes each, A32 and Thumb) while {} cores \
         made {} calls ",
        smp::online_count() - 1,
        calls.load(Ordering::Relaxed)
    );
    Ok(())
}

pub fn listing_shows_address_state_and_counters() -> TestResult {
    KPROBES
        .register(&PLAIN, a_add())
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .register(&PLAIN2, a_push())
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .disable(&PLAIN2)
        .map_err(|e| alloc::format!("{e}"))?;
    add(1, 2);
    add(1, 2);
    let mut rows = Vec::new();
    KPROBES
        .list(|i| rows.push(i))
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .unregister(&PLAIN)
        .map_err(|e| alloc::format!("{e}"))?;
    KPROBES
        .unregister(&PLAIN2)
        .map_err(|e| alloc::format!("{e}"))?;
    let find = |a: usize| rows.iter().find(|r| r.addr == a).copied();
    let (Some(p), Some(q)) = (find(a_add()), find(a_push())) else {
        return Err(alloc::format!("listing lacks a probe: {rows:?}"));
    };
    ensure!(p.state == ProbeState::Enabled && p.hits == 2, "{p:?}");
    ensure!(q.state == ProbeState::Disabled && q.hits == 0, "{q:?}");
    Ok(())
}
