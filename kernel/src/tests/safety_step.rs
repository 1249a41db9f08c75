//! The step's safety contract on the real machine, through breakpoint probes and both
//! kinds of optimized probe: an aborting stepped access is seen at the probed instruction
//! with the interrupted registers and can be fixed up; unaligned loads and stores are
//! stepped as the CPU makes them; a pre handler's redirect to Thumb works; a probed WFI or
//! WFE never keeps the CPU from answering a rendezvous.

use crate::abort::{self, Abort};
use crate::platform::PLATFORM;
use crate::probes::{KPROBES, RENDEZVOUS};
use crate::testing::TestResult;
use crate::{ensure, mmu, smp};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::{FaultFixup, Kprobe, Mechanism};
use armv7_kprobes::optprobe::Variant;
use armv7_kprobes::stop_machine::RunOn;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

// Functions to probe.
// SAFETY: each is an AAPCS function (arguments r0/r1, result r0, r4-r11 and sp preserved:
// ss_load saves r4-r11 and lr and restores them with its pop). ss_load records its sp in
// ss_sp_seen (a word-sized static below) before filling r2-r12 and lr with known values.
// ss_call_in_svc runs f(arg) in SVC mode on SVC's own stack with IRQs masked, keeps SVC's
// banked lr, and returns to SYS mode (r4 carries the entry CPSR across the call);
// ss_svc_sys_lr does the same with a marker in SYS lr (saved on the SYS stack first), and
// returns what SYS lr holds afterwards.
core::arch::global_asm!(
    ".pushsection .text.ss_targets, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global ss_load",
    "ss_load:", // u32 ss_load(addr) = *addr, with r2-r12, lr known at the load
    "    push  {{r4-r11, lr}}",
    "    movw  r12, #:lower16:ss_sp_seen",
    "    movt  r12, #:upper16:ss_sp_seen",
    "    str   sp, [r12]",
    "    mov   r1, r0",
    "    mov   r0, #0",
    "    mov   r2, #0x22",
    "    mov   r3, #0x33",
    "    mov   r4, #0x44",
    "    mov   r5, #0x55",
    "    mov   r6, #0x66",
    "    mov   r7, #0x77",
    "    mov   r8, #0x88",
    "    mov   r9, #0x99",
    "    mov   r10, #0xaa",
    "    mov   r11, #0xbb",
    "    mov   r12, #0xcc",
    "    mov   lr, #0xee",
    ".global ss_load_site",
    "ss_load_site:",
    "    ldr   r0, [r1]", // the probe site
    "    pop   {{r4-r11, pc}}",
    ".global ss_call_in_svc",
    "ss_call_in_svc:", // u32 ss_call_in_svc(f, arg) = f(arg), run in SVC mode, IRQs masked
    "    push  {{r4, lr}}",
    "    mrs   r4, cpsr",
    "    cpsid i",
    "    cps   #0x13",
    "    push  {{lr}}", // SVC's banked lr, restored before leaving SVC mode
    "    mov   r2, r0",
    "    mov   r0, r1",
    "    blx   r2",
    "    pop   {{lr}}",
    "    cps   #0x1f",
    "    msr   cpsr_c, r4", // IRQ masking as on entry
    "    pop   {{r4, pc}}",
    ".global ss_svc_sys_lr",
    "ss_svc_sys_lr:", // u32 ss_svc_sys_lr(f, arg): f(arg) in SVC mode (IRQs masked) with
    "    push  {{r4, lr}}", // SYS lr = 0x5a5aa5a5 meanwhile; returns SYS lr afterwards
    "    mrs   r4, cpsr",
    "    cpsid i",
    "    movw  lr, #0xa5a5",
    "    movt  lr, #0x5a5a",
    "    cps   #0x13",
    "    push  {{lr}}", // SVC's banked lr, restored before leaving SVC mode
    "    mov   r2, r0",
    "    mov   r0, r1",
    "    blx   r2",
    "    pop   {{lr}}",
    "    cps   #0x1f",
    "    mov   r0, lr",     // SYS lr as the call in SVC mode left it
    "    msr   cpsr_c, r4", // IRQ masking as on entry
    "    pop   {{r4, pc}}",
    ".global ss_plain_load",
    "ss_plain_load:", // never probed
    "    ldr   r0, [r0]",
    "    bx    lr",
    ".global ss_jump",
    "ss_jump:", // probed: the step branches to r0
    "    bx    r0",
    ".global ss_ldr",
    "ss_ldr:",
    "    ldr   r0, [r0]",
    "    bx    lr",
    ".global ss_ldrh",
    "ss_ldrh:",
    "    ldrh  r0, [r0]",
    "    bx    lr",
    ".global ss_ldrsh",
    "ss_ldrsh:",
    "    ldrsh r0, [r0]",
    "    bx    lr",
    ".global ss_str",
    "ss_str:",
    "    str   r1, [r0]",
    "    bx    lr",
    ".global ss_strh",
    "ss_strh:",
    "    strh  r1, [r0]",
    "    bx    lr",
    ".global ss_arm_7",
    "ss_arm_7:", // u32 ss_arm_7() = 7 (its first instruction is probed and redirected)
    "    mov   r0, #7",
    "    bx    lr",
    ".global ss_wfe",
    "ss_wfe:",
    "    wfe",
    "    bx    lr",
    ".global ss_wfi",
    "ss_wfi:",
    "    wfi",
    "    bx    lr",
    ".thumb",
    ".p2align 1",
    ".global ss_thumb_42",
    ".type ss_thumb_42, %function",
    ".thumb_func",
    "ss_thumb_42:", // Thumb: u32 ss_thumb_42() = 42
    "    movs  r0, #42",
    "    bx    lr",
    ".arm",
    ".popsection",
);

unsafe extern "C" {
    fn ss_load(addr: u32) -> u32;
    fn ss_call_in_svc(f: unsafe extern "C" fn(u32) -> u32, arg: u32) -> u32;
    fn ss_svc_sys_lr(f: unsafe extern "C" fn(u32) -> u32, arg: u32) -> u32;
    fn ss_load_site();
    fn ss_plain_load(addr: u32) -> u32;
    fn ss_jump(to: u32) -> u32;
    fn ss_ldr(addr: u32) -> u32;
    fn ss_ldrh(addr: u32) -> u32;
    fn ss_ldrsh(addr: u32) -> u32;
    fn ss_str(addr: u32, value: u32);
    fn ss_strh(addr: u32, value: u32);
    fn ss_arm_7() -> u32;
    fn ss_wfe();
    fn ss_wfi();
    fn ss_thumb_42() -> u32;
}

/// The sp `ss_load` ran with (written by its assembly).
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
static ss_sp_seen: AtomicU32 = AtomicU32::new(0);

fn addr(f: unsafe extern "C" fn()) -> usize {
    f as *const () as usize
}

fn err(e: impl core::fmt::Display) -> String {
    format!("{e}")
}

/// An address no board maps (checked by translation before use).
pub(crate) const UNMAPPED: u32 = 0x3000_0000;

/// What the abort hook saw, and what it did: skip the instruction with r0 = SKIPPED.
struct Seen {
    kind: Option<Abort>,
    frame: TrapFrame,
    fixup: Option<FaultFixup>,
    far: u32,
    count: u32,
}

struct SeenCell(UnsafeCell<Seen>);
// SAFETY: written only by the abort hook on core 0 while the test (on core 0) is inside
// the aborting call, read by the test after it returned.
unsafe impl Sync for SeenCell {}

static SEEN: SeenCell = SeenCell(UnsafeCell::new(Seen {
    kind: None,
    frame: TrapFrame {
        r: [0; 13],
        sp: 0,
        lr: 0,
        pc: 0,
        cpsr: 0,
    },
    fixup: None,
    far: 0,
    count: 0,
}));

pub(crate) const SKIPPED: u32 = 0xfeed;

/// Keeps what an abort hook saw for the test to check (core 0 only).
fn record(kind: Abort, frame: &TrapFrame, fixup: Option<FaultFixup>) {
    // SAFETY: see SeenCell.
    let seen = unsafe { &mut *SEEN.0.get() };
    seen.kind = Some(kind);
    seen.frame = *frame;
    seen.fixup = fixup;
    seen.far = abort::fault_registers(kind).0;
    seen.count += 1;
}

fn skip_hook(kind: Abort, frame: &mut TrapFrame, fixup: Option<FaultFixup>) -> bool {
    if smp::cpu_id() != 0 || fixup.is_none() {
        return false;
    }
    record(kind, frame, fixup);
    // The kernel's fixup, as an exception table would: skip the load, r0 = a marker.
    frame.pc += 4;
    frame.r[0] = SKIPPED;
    true
}

fn take_seen() -> Seen {
    // SAFETY: see SeenCell; the hook is not running (no abort in progress on core 0).
    let seen = unsafe { &mut *SEEN.0.get() };
    core::mem::replace(
        seen,
        Seen {
            kind: None,
            frame: TrapFrame::default(),
            fixup: None,
            far: 0,
            count: 0,
        },
    )
}

fn cpsr() -> u32 {
    let c: u32;
    // SAFETY: reads CPSR; no side effects.
    unsafe {
        core::arch::asm!("mrs {c}, cpsr", c = out(reg) c, options(nostack, nomem, preserves_flags))
    };
    c
}

fn nothing(_: &Kprobe, _: &mut TrapFrame) {}

static BP: Kprobe = Kprobe::new(Some(nothing), None, 0);
static OPT_STEP: Kprobe = Kprobe::new(Some(nothing), Some(nothing), 0);
static OPT_DIRECT: Kprobe = Kprobe::new(Some(nothing), None, 0);

/// Registers `probe` on `ss_load`'s load, optimized or not, and checks the mechanism.
fn place(probe: &'static Kprobe, optimize: bool, want: Mechanism) -> TestResult {
    KPROBES.register(probe, addr(ss_load_site)).map_err(err)?;
    if optimize {
        KPROBES.optimize_pending().map_err(err)?;
    }
    let m = KPROBES.mechanism_of(probe).map_err(err)?;
    ensure!(m == want, "mechanism {m}, wanted {want}");
    Ok(())
}

/// Calls `ss_load(address)` in SYS mode (the test's own), or in SVC mode with IRQs
/// masked through `ss_call_in_svc` (a probed instruction in another mode than the one
/// the undefined-instruction handler runs in).
fn load(address: u32, svc: bool) -> u32 {
    if svc {
        // SAFETY: ss_call_in_svc calls the AAPCS function ss_load with the argument on
        // the SVC stack and comes back to SYS mode with IRQ masking as it was.
        unsafe { ss_call_in_svc(ss_load, address) }
    } else {
        // SAFETY: ss_load is the AAPCS function above.
        unsafe { ss_load(address) }
    }
}

/// One aborting call (the hook skips the load) and one good call, in SYS or SVC mode.
fn abort_once(svc: bool, in_slot: bool) -> TestResult {
    take_seen();
    let got = load(UNMAPPED, svc);
    let seen = take_seen();
    let sp = ss_sp_seen.load(Ordering::Relaxed);
    static VALUE: AtomicU32 = AtomicU32::new(0x1234_5678);
    let again = load(VALUE.as_ptr() as u32, svc);
    let mode = if svc { "SVC" } else { "SYS" };
    let site = addr(ss_load_site) as u32;
    let f = seen.frame;
    ensure!(
        got == SKIPPED,
        "{mode}: the fixed-up load returned {got:#x}"
    );
    ensure!(
        seen.count == 1 && seen.kind == Some(Abort::Data),
        "{mode}: {} aborts seen, {:?}",
        seen.count,
        seen.kind
    );
    ensure!(
        f.pc == site,
        "{mode}: abort at {:#x}, probe at {site:#x}",
        f.pc
    );
    ensure!(
        seen.far == UNMAPPED,
        "{mode}: fault address {:#x}",
        seen.far
    );
    let fixup_ok = match seen.fixup {
        Some(FaultFixup::InSlot { addr }) => in_slot && addr == site as usize,
        Some(FaultFixup::Stepped { addr, .. }) => !in_slot && addr == site as usize,
        None => false,
    };
    ensure!(
        fixup_ok,
        "{mode}: fixup {:?} (in slot: {in_slot})",
        seen.fixup
    );
    let regs = [
        0, UNMAPPED, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
    ];
    ensure!(f.r == regs, "{mode}: registers {:x?}", f.r);
    ensure!(f.lr == 0xee, "{mode}: lr {:#x}", f.lr);
    ensure!(f.sp == sp, "{mode}: sp {:#x}, the function's {sp:#x}", f.sp);
    // The probed code's mode, masks and state: SYS as the test runs, or SVC, IRQs masked.
    let want = if svc {
        cpsr() & !0x1f | 0x13 | 0x80
    } else {
        cpsr()
    };
    ensure!(
        f.cpsr & 0x1ff == want & 0x1ff,
        "{mode}: cpsr {:#x} (mode, masks, state), want {want:#x}",
        f.cpsr
    );
    ensure!(
        again == 0x1234_5678,
        "{mode}: the next call loaded {again:#x}"
    );
    Ok(())
}

fn abort_at_the_probe(
    probe: &'static Kprobe,
    optimize: bool,
    want: Mechanism,
    in_slot: bool,
) -> TestResult {
    ensure!(
        !mmu::readable(UNMAPPED as usize),
        "{UNMAPPED:#x} is mapped on this board"
    );
    place(probe, optimize, want)?;
    abort::set_abort_hook(Some(skip_hook));
    let result = abort_once(false, in_slot).and_then(|()| abort_once(true, in_slot));
    abort::set_abort_hook(None);
    let (hits, missed) = (probe.hits(), probe.missed());
    KPROBES.unregister(probe).map_err(err)?;
    result?;
    ensure!(
        (hits, missed) == (4, 0),
        "after the aborts: {hits} hits, {missed} missed (want 4, 0: every hit after an \
         abort counts as a hit)"
    );
    Ok(())
}

/// Breakpoint path: the step engine's load aborts inside the crate.
pub fn a_stepped_load_that_aborts_is_seen_at_the_breakpoint_probe() -> TestResult {
    abort_at_the_probe(&BP, false, Mechanism::Breakpoint, false)
}

/// Optimized step path (a post handler makes the trampoline's callback step it).
pub fn a_stepped_load_that_aborts_is_seen_at_the_optimized_probe() -> TestResult {
    abort_at_the_probe(
        &OPT_STEP,
        true,
        Mechanism::Optimized(Variant::Direct),
        false,
    )
}

/// Optimized direct path: the original aborts in the slot.
pub fn an_original_that_aborts_in_its_slot_is_seen_at_the_probe() -> TestResult {
    abort_at_the_probe(
        &OPT_DIRECT,
        true,
        Mechanism::Optimized(Variant::Direct),
        true,
    )
}

/// For aborts the crate does not claim: a data abort is skipped, a prefetch abort at
/// UNMAPPED returns to lr; r0 = SKIPPED either way.
fn not_ours_hook(kind: Abort, frame: &mut TrapFrame, fixup: Option<FaultFixup>) -> bool {
    if smp::cpu_id() != 0 {
        return false;
    }
    record(kind, frame, fixup);
    match kind {
        Abort::Data => frame.pc += 4,
        Abort::Prefetch => frame.pc = frame.lr,
    }
    frame.r[0] = SKIPPED;
    true
}

static JUMP: Kprobe = Kprobe::new(Some(nothing), None, 0);

/// The abort entries on their own, and the crate leaving alone what is not a probe's: a
/// data abort in unprobed code, and the prefetch abort of a probed branch to an unmapped
/// address (taken at the target, after the step, as natively).
pub fn aborts_that_are_not_a_probes_stay_where_they_happened() -> TestResult {
    ensure!(
        !mmu::readable(UNMAPPED as usize),
        "{UNMAPPED:#x} is mapped on this board"
    );
    abort::set_abort_hook(Some(not_ours_hook));
    take_seen();
    // SAFETY: an AAPCS function whose load aborts; the hook skips it.
    let plain = unsafe { ss_plain_load(UNMAPPED) };
    let data = take_seen();
    let jump_at = ss_jump as *const () as usize;
    let registered = KPROBES.register(&JUMP, jump_at).map_err(err);
    // SAFETY: ss_jump branches to UNMAPPED; the hook returns to lr, the caller.
    let jumped = registered.is_ok().then(|| unsafe { ss_jump(UNMAPPED) });
    let prefetch = take_seen();
    abort::set_abort_hook(None);
    let hits = JUMP.hits();
    if registered.is_ok() {
        KPROBES.unregister(&JUMP).map_err(err)?;
    }
    registered?;
    let plain_at = ss_plain_load as *const () as u32;
    ensure!(plain == SKIPPED, "data abort: returned {plain:#x}");
    ensure!(
        data.count == 1
            && data.kind == Some(Abort::Data)
            && data.fixup.is_none()
            && data.frame.pc == plain_at
            && data.frame.r[0] == UNMAPPED
            && data.far == UNMAPPED,
        "data abort: {} seen, {:?}, fixup {:?}, pc {:#x} (want {plain_at:#x}), far {:#x}",
        data.count,
        data.kind,
        data.fixup,
        data.frame.pc,
        data.far
    );
    ensure!(
        jumped == Some(SKIPPED),
        "prefetch abort: returned {jumped:x?}"
    );
    ensure!(
        prefetch.count == 1
            && prefetch.kind == Some(Abort::Prefetch)
            && prefetch.fixup.is_none()
            && prefetch.frame.pc == UNMAPPED
            && prefetch.far == UNMAPPED
            && hits == 1,
        "prefetch abort: {} seen, {:?}, fixup {:?}, pc {:#x}, far {:#x}, {hits} hits",
        prefetch.count,
        prefetch.kind,
        prefetch.fixup,
        prefetch.frame.pc,
        prefetch.far
    );
    Ok(())
}

static UNALIGNED_BP: [Kprobe; 5] = [const { Kprobe::new(Some(nothing), None, 0) }; 5];
static UNALIGNED_OPT: [Kprobe; 5] = [const { Kprobe::new(Some(nothing), Some(nothing), 0) }; 5];

#[repr(C, align(8))]
struct Buffer(UnsafeCell<[u8; 16]>);
// SAFETY: only core 0 uses it, inside one test.
unsafe impl Sync for Buffer {}
static BUFFER: Buffer = Buffer(UnsafeCell::new([0; 16]));

fn fill(b: &mut [u8; 16]) {
    for (i, x) in b.iter_mut().enumerate() {
        *x = 0x80 | (i as u8 * 0x11);
    }
}

/// Runs the five unaligned accessors at every misaligned offset and compares with the
/// bytes; returns a description of the first difference.
fn unaligned_round() -> Result<u64, String> {
    // SAFETY: BUFFER is ours (see Buffer); the accessors are AAPCS functions doing one
    // access inside it (offsets 1..=3 plus at most 4 bytes stay within the 16).
    let b = unsafe { &mut *BUFFER.0.get() };
    let base = b.as_ptr() as u32;
    let mut checked = 0;
    for off in [1u32, 2, 3, 5] {
        fill(b);
        let at = |n: u32| u32::from(b[(off + n) as usize]);
        let word = at(0) | at(1) << 8 | at(2) << 16 | at(3) << 24;
        let half = at(0) | at(1) << 8;
        // SAFETY: see above.
        let (w, h, sh) = unsafe {
            (
                ss_ldr(base + off),
                ss_ldrh(base + off),
                ss_ldrsh(base + off),
            )
        };
        ensure!(w == word, "ldr at +{off}: {w:#x}, bytes say {word:#x}");
        ensure!(h == half, "ldrh at +{off}: {h:#x}, bytes say {half:#x}");
        ensure!(
            sh == half as u16 as i16 as i32 as u32,
            "ldrsh at +{off}: {sh:#x}, bytes say {half:#x}"
        );
        // SAFETY: see above.
        unsafe { ss_str(base + off, 0x0403_0201) };
        ensure!(
            b[off as usize..off as usize + 4] == [1, 2, 3, 4],
            "str at +{off} wrote {:x?}",
            &b[off as usize..off as usize + 4]
        );
        // SAFETY: see above.
        unsafe { ss_strh(base + off, 0xffff_0605) };
        ensure!(
            b[off as usize..off as usize + 4] == [5, 6, 3, 4],
            "strh at +{off} wrote {:x?}",
            &b[off as usize..off as usize + 4]
        );
        checked += 5;
    }
    Ok(checked)
}

/// Unaligned LDR/LDRH/LDRSH/STR/STRH through breakpoint probes and through optimized
/// probes' step path (the accesses the step engine makes; a debug-assertion build
/// panicked on the old pointer reads), equal to the bytes in memory.
pub fn unaligned_loads_and_stores_are_stepped_as_the_cpu_makes_them() -> TestResult {
    let fns = [
        ss_ldr as *const () as usize,
        ss_ldrh as *const () as usize,
        ss_ldrsh as *const () as usize,
        ss_str as *const () as usize,
        ss_strh as *const () as usize,
    ];
    let native = unaligned_round()?;
    for (set, optimize) in [(&UNALIGNED_BP, false), (&UNALIGNED_OPT, true)] {
        for (p, f) in set.iter().zip(fns) {
            KPROBES.register(p, f).map_err(err)?;
        }
        if optimize {
            KPROBES.optimize_pending().map_err(err)?;
        }
        let result = unaligned_round();
        let mechanisms: [_; 5] = core::array::from_fn(|i| KPROBES.mechanism_of(&set[i]));
        let hits: u64 = set.iter().map(Kprobe::hits).sum();
        for p in set.iter() {
            KPROBES.unregister(p).map_err(err)?;
        }
        let checked = result?;
        let want = if optimize {
            Mechanism::Optimized(Variant::Direct)
        } else {
            Mechanism::Breakpoint
        };
        ensure!(
            mechanisms.iter().all(|m| *m == Ok(want)),
            "mechanisms {mechanisms:?}"
        );
        ensure!(
            checked == native && hits == native,
            "{hits} probe hits for {checked} accesses"
        );
    }
    Ok(())
}

fn to_thumb_42(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = ss_thumb_42 as *const () as usize as u32 | 1;
}

static THUMB_BP: Kprobe = Kprobe::new(Some(to_thumb_42), None, 0);
static THUMB_OPT: Kprobe = Kprobe::new(Some(to_thumb_42), None, 0);

/// A pre handler that redirects to a Thumb function (`pc | 1`) lands there in Thumb
/// state through a breakpoint probe and through an optimized probe alike.
pub fn a_redirect_to_thumb_works_through_both_probe_kinds() -> TestResult {
    let f = ss_arm_7 as *const () as usize;
    // SAFETY: ss_arm_7 is the AAPCS function above.
    ensure!(unsafe { ss_arm_7() } == 7, "unprobed");
    for (p, optimize) in [(&THUMB_BP, false), (&THUMB_OPT, true)] {
        KPROBES.register(p, f).map_err(err)?;
        if optimize {
            KPROBES.optimize_pending().map_err(err)?;
        }
        let m = KPROBES.mechanism_of(p);
        // SAFETY: the handler sends the call to ss_thumb_42, an AAPCS Thumb function
        // that returns to the same lr.
        let got = unsafe { ss_arm_7() };
        let hits = p.hits();
        KPROBES.unregister(p).map_err(err)?;
        ensure!(got == 42 && hits == 1, "{m:?}: returned {got}, {hits} hits");
    }
    Ok(())
}

static SVC_BP: Kprobe = Kprobe::new(Some(nothing), None, 0);

/// A breakpoint hit in SVC mode leaves SYS (= USR) mode's lr as it was: the shipped entry
/// runs the handler in SYS mode, whose calls use that lr, and must give it back (a kernel
/// running in SVC mode keeps a user task's lr there).
pub fn a_breakpoint_hit_in_svc_mode_keeps_the_sys_mode_lr() -> TestResult {
    let value = 0x1234_5678u32;
    let at = &value as *const u32 as u32;
    KPROBES
        .register(&SVC_BP, ss_ldr as *const () as usize)
        .map_err(err)?;
    // SAFETY: ss_svc_sys_lr calls the AAPCS function ss_ldr with a readable address.
    let sys_lr = unsafe { ss_svc_sys_lr(ss_ldr, at) };
    let hits = SVC_BP.hits();
    KPROBES.unregister(&SVC_BP).map_err(err)?;
    ensure!(hits == 1, "{hits} hits");
    ensure!(
        sys_lr == 0x5a5a_a5a5,
        "SYS lr {sys_lr:#010x} after the hit, not 0x5a5aa5a5"
    );
    Ok(())
}

static WFI_BP: Kprobe = Kprobe::new(Some(nothing), None, 0);
static WFI_OPT: Kprobe = Kprobe::new(Some(nothing), Some(nothing), 0);
static WFE_BP: Kprobe = Kprobe::new(Some(nothing), None, 0);
static WFE_OPT: Kprobe = Kprobe::new(Some(nothing), Some(nothing), 0);

/// Core 0 calls a probed WFI (or WFE) 20 times, stepped with its interrupts masked,
/// while core 1 keeps starting rendezvous, which need core 0's answer: each stepped wait
/// must end for the interrupt (WFI wakes on a pending interrupt even while masked; WFE is
/// stepped as a NOP), or core 0 never answers and the test hangs.
fn waits_answer_rendezvous(
    probe: &'static Kprobe,
    target: unsafe extern "C" fn(),
    optimize: bool,
) -> TestResult {
    const CALLS: u32 = 20;
    KPROBES.register(probe, addr(target)).map_err(err)?;
    if optimize {
        KPROBES.optimize_pending().map_err(err)?;
    }
    let m = KPROBES.mechanism_of(probe);
    let done = AtomicBool::new(false);
    let rendezvous = AtomicU32::new(0);
    let failed = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| match cpu {
        0 => {
            for _ in 0..CALLS {
                // SAFETY: ss_wfi / ss_wfe are the AAPCS functions above.
                unsafe { target() };
            }
            done.store(true, Ordering::Release);
        }
        1 => {
            while !done.load(Ordering::Acquire) {
                if RENDEZVOUS.run(&PLATFORM, RunOn::AllCpus, &|_| {}).is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                rendezvous.fetch_add(1, Ordering::Relaxed);
            }
        }
        _ => {}
    });
    let hits = probe.hits();
    KPROBES.unregister(probe).map_err(err)?;
    let want = if optimize {
        Mechanism::Optimized(Variant::Direct)
    } else {
        Mechanism::Breakpoint
    };
    ensure!(m == Ok(want), "mechanism {m:?}");
    ensure!(hits == u64::from(CALLS), "{hits} hits");
    ensure!(
        failed.load(Ordering::Relaxed) == 0,
        "{} rendezvous refused",
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

/// A probed WFI (breakpoint and optimized step path) wakes for the rendezvous IPI.
pub fn a_probed_wfi_wakes_for_a_rendezvous_on_both_paths() -> TestResult {
    waits_answer_rendezvous(&WFI_BP, ss_wfi, false)?;
    waits_answer_rendezvous(&WFI_OPT, ss_wfi, true)
}

/// A probed WFE (breakpoint and optimized step path) never sleeps through a rendezvous.
/// QEMU runs WFE as a yield, so here this shows only that the step completes and the
/// rendezvous proceed; on silicon a real `wfe` with IRQs masked would sleep through them.
pub fn a_probed_wfe_never_sleeps_through_a_rendezvous_on_both_paths() -> TestResult {
    waits_answer_rendezvous(&WFE_BP, ss_wfe, false)?;
    waits_answer_rendezvous(&WFE_OPT, ss_wfe, true)
}
