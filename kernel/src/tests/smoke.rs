//! Platform smoke tests: the machine the crate runs on behaves as the crate assumes.

use crate::testing::TestResult;
use crate::{ensure, heap, irq, mmu, smp, text, timer, trap};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use armv7_kprobes::TrapFrame;
use core::sync::atomic::{AtomicU32, Ordering};

/// The cores the runner gave QEMU (`--smp`), as a mask: every one must be online.
fn all_cores() -> u32 {
    (1 << crate::bootargs::cpus()) - 1
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> TestResult {
    let deadline = timer::now_ns() + 2_000_000_000;
    while !done() {
        if timer::now_ns() > deadline {
            return Err(alloc::format!("timed out waiting for {what}"));
        }
        core::hint::spin_loop();
    }
    Ok(())
}

pub fn all_cores_online_with_distinct_mpidr() -> TestResult {
    ensure!(
        smp::online_mask() == all_cores(),
        "online mask {:#b}, want {:#b}",
        smp::online_mask(),
        all_cores()
    );
    for cpu in smp::online_cpus() {
        let m = smp::mpidr(cpu);
        ensure!(m & 0xff == cpu as u32, "cpu {cpu} reported MPIDR {m:#x}");
        ensure!(
            m & (1 << 31) != 0,
            "MPIDR {m:#x} lacks the multiprocessing-format bit"
        );
    }
    Ok(())
}

const IPI_PING: u32 = 0;
const IPI_MATRIX: u32 = 2;
static PINGS: [AtomicU32; smp::MAX_CORES] = [const { AtomicU32::new(0) }; smp::MAX_CORES];
static REPLIES: AtomicU32 = AtomicU32::new(0);
static MATRIX: [[AtomicU32; smp::MAX_CORES]; smp::MAX_CORES] =
    [const { [const { AtomicU32::new(0) }; smp::MAX_CORES] }; smp::MAX_CORES];

fn on_ping(_ipi: u32, from: usize) {
    let me = smp::cpu_id();
    if me == 0 {
        REPLIES.fetch_add(1, Ordering::AcqRel);
    } else {
        PINGS[me].fetch_add(1, Ordering::AcqRel);
        irq::send_ipi(IPI_PING, 1 << from);
    }
}

pub fn ipi_from_core0_reaches_others_and_back() -> TestResult {
    irq::set_ipi_handler(IPI_PING, on_ping);
    REPLIES.store(0, Ordering::Release);
    let others = smp::online_mask() & !1;
    ensure!(others != 0, "no other core online");
    let want = others.count_ones();
    irq::send_ipi(IPI_PING, others);
    wait_until("a reply from every other core", || {
        REPLIES.load(Ordering::Acquire) == want
    })?;
    for cpu in smp::online_cpus().skip(1) {
        ensure!(
            PINGS[cpu].load(Ordering::Acquire) >= 1,
            "cpu {cpu} never received the IPI"
        );
    }
    Ok(())
}

fn on_matrix(_ipi: u32, from: usize) {
    MATRIX[smp::cpu_id()][from].fetch_add(1, Ordering::AcqRel);
}

pub fn ipi_from_every_core_reaches_every_other() -> TestResult {
    irq::set_ipi_handler(IPI_MATRIX, on_matrix);
    let online = smp::online_mask();
    ensure!(online.count_ones() >= 2, "only one core online");
    smp::on_each_cpu(&|cpu| irq::send_ipi(IPI_MATRIX, online & !(1 << cpu)));
    wait_until("one delivery per ordered pair of cores", || {
        smp::online_cpus().all(|d| {
            smp::online_cpus().all(|s| d == s || MATRIX[d][s].load(Ordering::Acquire) == 1)
        })
    })?;
    for (d, row) in MATRIX.iter().enumerate() {
        ensure!(
            row[d].load(Ordering::Acquire) == 0,
            "cpu {d} received its own IPI"
        );
    }
    Ok(())
}

static SELF_IPIS: AtomicU32 = AtomicU32::new(0);
static SELF_IPI_FROM: AtomicU32 = AtomicU32::new(u32::MAX);

fn on_self_ipi(_ipi: u32, from: usize) {
    SELF_IPIS.fetch_add(1, Ordering::AcqRel);
    SELF_IPI_FROM.store(from as u32, Ordering::Release);
}

/// The seam's promise on every controller (`irq.rs`): an IPI waits while IRQs are
/// masked, the same sender's second one merges with it, and once unmasked it is taken
/// exactly once, naming its sender — on the BCM2836 this is the mailbox set, IRQ-source
/// and clear registers behaving as board.rs says (a clear that did not clear would take
/// it again and again; a wrong source bit, never).
pub fn an_ipi_to_self_waits_while_masked_and_is_taken_once_with_its_sender() -> TestResult {
    irq::set_ipi_handler(IPI_MATRIX, on_self_ipi);
    SELF_IPIS.store(0, Ordering::Release);
    let me = smp::cpu_id();
    let masked = armv7_kprobes::Platform::mask_interrupts(&crate::platform::PLATFORM);
    irq::send_ipi(IPI_MATRIX, 1 << me);
    irq::send_ipi(IPI_MATRIX, 1 << me);
    let start = timer::now_ns();
    while timer::now_ns() < start + 1_000_000 {
        core::hint::spin_loop();
    }
    let while_masked = SELF_IPIS.load(Ordering::Acquire);
    armv7_kprobes::Platform::restore_interrupts(&crate::platform::PLATFORM, masked);
    ensure!(
        while_masked == 0,
        "{while_masked} IPIs taken with IRQs masked"
    );
    wait_until("the IPI to self", || SELF_IPIS.load(Ordering::Acquire) >= 1)?;
    let start = timer::now_ns();
    while timer::now_ns() < start + 10_000_000 {
        core::hint::spin_loop();
    }
    let taken = SELF_IPIS.load(Ordering::Acquire);
    ensure!(
        taken == 1,
        "two IPIs from one sender taken {taken} times, want once"
    );
    let from = SELF_IPI_FROM.load(Ordering::Acquire);
    ensure!(
        from == me as u32,
        "IPI to self names sender {from}, want {me}"
    );
    Ok(())
}

pub fn text_is_read_only_and_alias_writable() -> TestResult {
    let t = trap_target as *const () as usize;
    ensure!(mmu::readable(t), "text {t:#x} not readable");
    ensure!(!mmu::writable(t), "text {t:#x} is writable");
    ensure!(!mmu::execute_never(t), "text {t:#x} is execute-never");
    let a = text::alias(t);
    ensure!(mmu::writable(a), "alias {a:#x} not writable");
    ensure!(mmu::execute_never(a), "alias {a:#x} is executable");
    let d = &PINGS as *const _ as usize;
    ensure!(
        mmu::writable(d) && mmu::execute_never(d),
        "data {d:#x} not RW/XN"
    );
    // SAFETY: reads the same word through both mappings; both are mapped readable.
    let (w1, w2) = unsafe { (*(t as *const u32), *(a as *const u32)) };
    ensure!(w1 == w2, "alias reads {w2:#x}, text {w1:#x}");
    Ok(())
}

// A function whose first word we replace with a breakpoint: `nop` is patched to the
// undefined instruction, the handler skips it, `add` and `bx lr` run as usual.
// SAFETY: a leaf function following the AAPCS (r0, r1 in, r0 out, nothing saved).
core::arch::global_asm!(
    ".pushsection .text.trap_target, \"ax\", %progbits",
    ".arm",
    ".global trap_target",
    ".type trap_target, %function",
    ".p2align 2",
    "trap_target:",
    "    nop",
    "    add r0, r0, r1",
    "    bx  lr",
    ".size trap_target, . - trap_target",
    ".popsection",
);

unsafe extern "C" {
    fn trap_target(a: u32, b: u32) -> u32;
}

const BREAKPOINT: u32 = 0xe7f0_01f8;
const NOP: u32 = 0xe320_f000;
static SEEN_ARGS: [[AtomicU32; 2]; smp::MAX_CORES] =
    [const { [const { AtomicU32::new(0) }; 2] }; smp::MAX_CORES];

fn trap_hook(frame: &mut TrapFrame) -> bool {
    if frame.pc != trap_target as *const () as usize as u32 {
        return false;
    }
    let me = smp::cpu_id();
    SEEN_ARGS[me][0].store(frame.r[0], Ordering::Release);
    SEEN_ARGS[me][1].store(frame.r[1], Ordering::Release);
    frame.r[1] += 1000;
    frame.pc += 4;
    true
}

pub fn breakpoint_trap_on_every_core() -> TestResult {
    let t = trap_target as *const () as usize;
    // SAFETY: reading our own text word.
    let original = unsafe { *(t as *const u32) };
    ensure!(
        original == NOP,
        "trap_target starts with {original:#x}, not nop"
    );
    trap::set_undefined_hook(Some(trap_hook));
    text::write_word(t, BREAKPOINT);
    let results: [AtomicU32; smp::MAX_CORES] = [const { AtomicU32::new(0) }; smp::MAX_CORES];
    smp::on_each_cpu(&|cpu| {
        aarch32_cpu::asm::isb();
        // SAFETY: trap_target is the AAPCS leaf above.
        let r = unsafe { trap_target(cpu as u32 * 10, 5) };
        results[cpu].store(r, Ordering::Release);
    });
    text::write_word(t, NOP);
    trap::set_undefined_hook(None);
    smp::on_each_cpu(&|_| aarch32_cpu::asm::isb());
    for cpu in smp::online_cpus() {
        let a = SEEN_ARGS[cpu][0].load(Ordering::Acquire);
        let b = SEEN_ARGS[cpu][1].load(Ordering::Acquire);
        ensure!(
            (a, b) == (cpu as u32 * 10, 5),
            "cpu {cpu}: handler saw r0={a} r1={b}"
        );
        let r = results[cpu].load(Ordering::Acquire);
        ensure!(
            r == cpu as u32 * 10 + 1005,
            "cpu {cpu}: trap_target returned {r}"
        );
    }
    // SAFETY: trap_target is the AAPCS leaf above, original word restored.
    let plain = unsafe { trap_target(1, 2) };
    ensure!(
        plain == 3,
        "after restoring the nop trap_target(1, 2) = {plain}"
    );
    Ok(())
}

pub fn heap_allocates_and_frees() -> TestResult {
    let (used_before, _) = heap::usage();
    {
        let v: Vec<u32> = (0..10_000).collect();
        ensure!(
            v.iter().map(|&x| x as u64).sum::<u64>() == 49_995_000,
            "vector sum"
        );
        let b = Box::new([7u8; 4096]);
        ensure!(b.iter().all(|&x| x == 7), "boxed array");
        let mut m = BTreeMap::new();
        for i in 0..1000u32 {
            m.insert(i.wrapping_mul(2_654_435_761), i);
        }
        ensure!(m.len() == 1000, "map size {}", m.len());
        let (used, _) = heap::usage();
        ensure!(
            used > used_before + 40_000,
            "heap usage did not grow ({used})"
        );
        // Other cores allocate too.
        smp::on_other_cpus(&|cpu| {
            let s: Vec<usize> = alloc::vec![cpu; 100];
            assert!(s.iter().all(|&x| x == cpu));
        });
    }
    let (used_after, _) = heap::usage();
    ensure!(
        used_after == used_before,
        "leak: {used_before} -> {used_after} bytes in use"
    );
    Ok(())
}

pub fn deliberately_failing_test() -> TestResult {
    let two = core::hint::black_box(2);
    ensure!(
        two == 3,
        "this test fails on purpose (runner --inject fail)"
    );
    Ok(())
}
