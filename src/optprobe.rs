//! Optimized probes: the probed word becomes `b<cond> slot` (a 32-bit Thumb instruction
//! `b.w slot`), and the slot holds a copy of a trampoline that saves the interrupted
//! registers, calls the crate and comes back — a hit costs a branch and a call instead of
//! an undefined-instruction exception.
//!
//! # The template
//!
//! The trampoline is written once, in assembly ([`global_asm!`](core::arch::global_asm)
//! below, `target_arch = "arm"` only), in a read-only data section: it is never executed
//! where it is assembled, only copied into slots. Everything the crate needs to know
//! about it is a label difference the assembler computes into a `TemplateLayout`
//! record next to it (where the holes are, how long it is), so no size or offset is
//! written twice. Per probe, `Template::fill` patches the holes: the literals (the fast
//! path's probe, the registry, the probe site, the probed address, the registry's
//! per-CPU `running` flags, the shared exit, the pre-handler call and the callback), the CPU-index read
//! of the fast path and — for direct execution — the original instruction and the
//! branch back to the probed address + 4.
//!
//! What a copy does when the probed `b<cond>` jumps to it (its condition passed):
//!
//! 0. (a Thumb probe's `b.w`, or `b<c>.w` over a conditional branch, enters one word
//!    earlier, at [`THUMB_ENTRY`]: `bx pc` goes on at the A32 entry in A32 state, and
//!    from there the copy is the same; see "Thumb probes" below);
//! 1. moves SP down by [`STACK_GAP`] (the stepped instruction may store up to
//!    [`MAX_STACK_WRITE_BELOW_SP`] bytes
//!    below the interrupted SP, so the frame must start below that) and 16 bytes more,
//!    pushes r0–r12 with one `stmdb`, reads the CPSR and masks IRQs and FIQs — four
//!    instructions after entry;
//! 2. completes the [`TrapFrame`] with one `stm` above them: the interrupted SP and LR,
//!    the probed address as `pc`, the CPSR — the frame the breakpoint path builds —
//!    loading its literals with one `ldm`, and rounds SP down to 8 bytes below the
//!    frame for the calls;
//! 3. the fast path, in a [`Variant::Direct`] copy whose platform names a register
//!    holding the CPU index ([`Platform::cpu_index_register`](crate::Platform)): reads
//!    the CPU index, the site's one enabled probe with a pre handler and no post handler
//!    (the `fast` literal, loaded after the masking: the registry keeps it equal to
//!    `Site::fast_pre_only` while the slot is the site's) and this CPU's reentrancy flag;
//!    with such a probe and the flag clear it sets the flag, counts the hit
//!    (`ldrexd`/`strexd`), calls the pre handler through an `extern "C"` shim, clears
//!    the flag and, if the handler left `pc` alone, goes on at 5 (zero); if it moved
//!    `pc`, at 5 (non-zero) through the copies' shared exit. Anything else — no such
//!    probe, a nested hit (the general path counts `missed`), a step-only copy, a
//!    platform without the register (the template's word there branches past the fast
//!    path) — goes to 4;
//! 4. calls the callback (AAPCS; r1 the frame, r2 the registry, r3 the site), which runs
//!    the pre handlers and either steps the instruction (then returns non-zero) or leaves
//!    it to the trampoline (returns 0);
//! 5. non-zero: restores the flags from the frame and the interrupt masks as they were
//!    on entry, and loads r0–r15 from the frame (PC and SP in one `ldm`), resuming
//!    wherever the step (or a handler) left `pc` — code shared by all copies, outside
//!    the slots; zero: the same for the CPSR and r0–r14, then executes the original
//!    instruction in the slot and branches back to the probed address + 4.
//!
//! Direct execution is only used for instructions that neither read nor write PC (a
//! copy reads the slot's address as PC) and only when no enabled probe at the address
//! has a post handler (post handlers run after the step, so those probes take the step
//! path). Linux never optimizes a probe with a post handler; here it is optimized and
//! stepped.
//!
//! # Thumb probes
//!
//! A 32-bit Thumb instruction outside any IT block (the registry decides, see
//! `kprobe::thumb`) is optimized too — Linux never optimizes Thumb-2 code. Its halfwords
//! become `b.w` to the copy's [`THUMB_ENTRY`] (±16 MiB; `b<c>.w`, ±1 MiB, with the
//! branch's own condition over a conditional branch), written halfword by halfword in the
//! rendezvous like a Thumb breakpoint. The copy runs in A32 state from its `bx pc` on, so
//! the frame's CPSR has T clear (and IT, as in the probed code); the Thumb callbacks set
//! T, and the handlers see the frame a Thumb breakpoint hit gives them. The copy never
//! runs the A32 instruction hole: the callback always returns non-zero. An instruction
//! that does not touch PC (`decode::uses_pc_t32`) is still run natively — the copy's
//! instruction hole holds it (in memory order) and the next word a Thumb `b.w` back to
//! the probed address + 4 — by resuming at that hole in Thumb state (the `fast` literal
//! of a Thumb copy is that address with bit 0 set, which the callback gets in r0: a copy
//! names its own hole, whatever became of the site since). A PC user is stepped, and a
//! step-only copy's two holes hold [`NEVER_RUN`].
//!
//! # When a slot may be reused
//!
//! A copy runs with its interrupts as the probed code had them in two windows: the
//! three instructions between the probed `b` and the `cpsid` (four from a Thumb
//! probe's `b.w`: the `bx pc` too), and the direct path's `ldm`, original and branch
//! back (three; a Thumb copy's original and `b.w` back, two, which the shared exit's
//! `ldm` enters); everywhere else interrupts and FIQs are masked. (The resuming exit's
//! final `ldm`, the third window, lies in the shared exit, outside every slot: a CPU
//! interrupted there is in no slot, and never returns to one.) An interrupt taken in a
//! window returns into the copy — and a CPU that returns with the next interrupt already
//! pending takes it before executing anything, so it can be found at the same slot pc
//! rendezvous after rendezvous (seen under QEMU's multi-threaded TCG: 9 in a row).
//! "Every CPU took an interrupt since" therefore proves nothing. The rule instead:
//!
//! **A slot, the `Site` its literals name and everything that site points to are
//! freed, rewritten or reused only after a rendezvous, begun after the branch to the
//! slot was removed, in which no CPU was observed inside the slot.**
//!
//! Why that is enough (the argument, for a kernel that keeps the contract of
//! [`Rendezvous::ipi_entry_at`](crate::stop_machine::Rendezvous::ipi_entry_at)):
//!
//! 1. After the rendezvous that wrote the original back (every CPU executed an ISB in
//!    it), no CPU can newly enter the slot: its only entry was that branch.
//! 2. A CPU is inside a copy only between entering it and its last instruction there;
//!    in the masked part it takes no interrupt, so it cannot join a rendezvous by IPI
//!    until it reaches a window, and it cannot join one by polling (thread-context
//!    entry points refuse masked callers; a masked caller that polls is recorded as
//!    [`Interrupted::Unknown`](crate::stop_machine::Interrupted)).
//! 3. So in a later rendezvous every CPU is either the initiator or a lock waiter in
//!    thread context (in no slot), or was interrupted by the IPI at a pc the kernel
//!    passes, which lies in the slot if and only if the CPU is in it (no other context
//!    of that CPU resumes in a slot: the contract). A slot no recorded pc lies in, with
//!    no unknown participant, holds no CPU — and by 1 never will again.
//! 4. The registry ([`Kprobes::reclaim_slots`](crate::kprobe::Kprobes::reclaim_slots),
//!    also run after every unoptimize) asks the rendezvous'
//!    [`Observation`](crate::stop_machine::Observation) whether a CPU may be in each
//!    dirty slot released before that rendezvous; a slot someone may be in stays dirty and is retried by a later
//!    reclaim (the CPU has had time to leave; no retry is back to back).
//! 5. A dirty slot is tagged with its site; an unregistered site stays reserved —
//!    address, original, decode, out of the lookup table, without probes — while any
//!    dirty slot names it, so a CPU still in the copy's entry window calls back into a
//!    site that describes the same instruction and runs it correctly (no handler). The
//!    site becomes free with the last such slot.
//!
//! A kernel that calls only
//! [`Rendezvous::ipi_entry`](crate::stop_machine::Rendezvous::ipi_entry) passes no pc: its rendezvous prove
//! nothing, and dirty slots are never reused (probes then stay breakpoints once slots
//! run out). A kernel that switches threads from interrupt context, or lets an
//! exception handler re-enable interrupts on top of slot code, must pass the pc of any
//! context that will resume in the slot region, or call `ipi_entry`: it is the
//! RCU-tasks problem Linux solves for its trampolines.
//!
//! # Stack
//!
//! A hit on an optimized probe uses the probed code's own stack: SP moves down
//! [`STACK_GAP`] (256) bytes, then the frame (68 bytes) and at most 4 bytes to align,
//! so the callback (or the fast path's pre handler) starts at most 328 bytes below the
//! probed code's SP; the hit path and an empty handler bring the high-water mark to 344
//! bytes (direct execution) and 440 bytes (step path), and for a Thumb probe 392 bytes
//! (run in the slot) and 944 bytes (step path), measured on the test kernel
//! (`kernel/src/tests/safety_slots.rs`, budget 1,536). Add what your handlers use. The
//! probed code's stack must have that much room below its SP; a breakpoint probe's
//! handler runs on whatever stack the kernel's undefined-instruction entry chooses.

use crate::decode::{self, SimKind};
use crate::frame::TrapFrame;
use crate::insn::{Branch, BranchError, Insn, ThumbBranch};
use crate::platform::CpuIndexSource;
use core::fmt;

/// Bytes the trampoline moves SP down before building its frame: more than the stepped
/// instruction may write below the interrupted SP, and a multiple of 8.
pub const STACK_GAP: u32 = 256;

/// Most bytes below the interrupted SP a probed instruction may write (the registry
/// refuses to probe one that may write further). The trampoline's [`STACK_GAP`] and the
/// undefined-instruction entry's gap (`glue::STACK_GAP`, 256) leave more room than this
/// between the interrupted SP and the frame they build.
pub const MAX_STACK_WRITE_BELOW_SP: u32 = 128;

const _: () = assert!(STACK_GAP >= MAX_STACK_WRITE_BELOW_SP + 8);
const _: () = assert!(STACK_GAP.is_multiple_of(8));
const _: () = assert!(TrapFrame::SIZE == 68 && TrapFrame::OFFSET_CPSR == 64);

/// Where the holes of the trampoline template are, in bytes from its start, as the
/// assembler computed them from the template's labels (see the module docs), and the two
/// words the CPU-index hole may be filled with, as the assembler encoded them.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TemplateLayout {
    /// Length of the template.
    pub size: u32,
    /// The original instruction (direct execution).
    pub insn: u32,
    /// The branch back to the probed address + 4 (direct execution).
    pub back: u32,
    /// Literal: the registry the callback belongs to.
    pub registry: u32,
    /// Literal: the probe site.
    pub site: u32,
    /// Literal: the callback's address.
    pub callback: u32,
    /// Literal: the probed address (the frame's `pc`).
    pub pc: u32,
    /// Literal: the registry's per-CPU `running` flags (the fast path's).
    pub running: u32,
    /// Literal: the function the fast path calls a pre handler through.
    pub call_pre: u32,
    /// Literal: the copies' shared way out when the frame says where to resume
    /// ([`resume_address`]).
    pub resume: u32,
    /// Literal: the fast path's probe (the site's `fast_pre_only`, which the registry
    /// keeps this word equal to while the slot is the site's), or 0. In a Thumb copy
    /// (which never runs the fast path) the Thumb address of its instruction hole, which
    /// reaches the callback in r0.
    pub fast: u32,
    /// The fast path's first instruction: in the template a branch to `slow` (no fast
    /// path); filled with `mpidr` or `tpidrprw` when the platform has a CPU index
    /// register and the slot runs the original directly.
    pub cpu: u32,
    /// Where the fast path gives up and calls the callback.
    pub slow: u32,
    /// Where an A32 probe's `b` enters the copy; the word before it is the Thumb entry
    /// ([`THUMB_ENTRY`], where a Thumb probe's `b.w` enters).
    pub entry: u32,
    /// The CPU-index hole's word reading MPIDR (an instruction, not an offset).
    pub mpidr: u32,
    /// The CPU-index hole's word reading TPIDRPRW (an instruction, not an offset).
    pub tpidrprw: u32,
}

/// The values one slot's copy is filled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fill {
    /// Executable address of the slot.
    pub slot: u32,
    /// Probed address.
    pub addr: u32,
    /// The word in the instruction hole: the original (direct execution) or a permanent
    /// UDF (step only; never executed).
    pub insn: u32,
    /// The callback's registry argument.
    pub registry: u32,
    /// The callback's site argument.
    pub site: u32,
    /// The callback.
    pub callback: u32,
    /// The registry's per-CPU `running` flags.
    pub running: u32,
    /// The pre-handler call of the fast path.
    pub call_pre: u32,
    /// The shared way out ([`resume_address`]).
    pub resume: u32,
    /// The fast path's probe (0: none); in a Thumb copy, the address its callback
    /// resumes at to run the original in place (its instruction hole, bit 0 set).
    pub fast: u32,
    /// Where the fast path reads the CPU index; [`CpuIndexSource::None`] leaves the
    /// template's branch to the callback (no fast path: step-only slots, platforms
    /// without such a register).
    pub cpu: CpuIndexSource,
    /// A Thumb probe's copy: entered at [`Template::thumb_entry`] (`addr` is the
    /// instruction's halfword address, bit 0 clear). Its instruction hole holds the
    /// 32-bit original in memory order and the branch back is a Thumb `b.w` — the callback
    /// resumes there, in Thumb state, to run it in place — or, in a step-only copy
    /// (`insn` [`NEVER_RUN`]), both hold `NEVER_RUN`.
    pub thumb: bool,
}

/// The trampoline template: its words and the layout of its holes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Template {
    words: &'static [u32],
    layout: TemplateLayout,
}

/// Why a template layout is unusable (a broken assembly edit; checked, not assumed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadLayout(pub(crate) TemplateLayout);

impl fmt::Display for BadLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trampoline template layout is inconsistent: {:?}",
            self.0
        )
    }
}

/// Whether `w` is an MRC from CP15 (`mrc p15, ...`) of any condition.
const fn is_mrc_p15(w: u32) -> bool {
    w & 0x0f10_0f10 == 0x0e10_0f10
}

impl Template {
    /// A template over `words` with holes at `layout`, checked: the size matches, every
    /// hole is a distinct word inside it, the literals lie in the order the template's
    /// `ldm` loads them, the CPU-index hole holds a branch to `slow`, its two fills
    /// are CP15 reads into the same register, and the word before the A32 entry is the
    /// Thumb entry.
    pub fn new(words: &'static [u32], layout: TemplateLayout) -> Result<Template, BadLayout> {
        let l = layout;
        let holes = [
            l.insn, l.back, l.registry, l.site, l.callback, l.pc, l.running, l.call_pre, l.resume,
            l.fast, l.cpu,
        ];
        let inside = |h: u32| h.is_multiple_of(4) && h < l.size;
        let literals = [
            l.fast, l.registry, l.site, l.pc, l.running, l.resume, l.call_pre, l.callback,
        ];
        let ok = l.size as usize == 4 * words.len()
            && holes
                .iter()
                .enumerate()
                .all(|(i, &h)| inside(h) && !holes[..i].contains(&h))
            && l.back == l.insn + 4
            && literals.windows(2).all(|w| w[1] == w[0] + 4)
            && inside(l.slow)
            && !holes.contains(&l.slow)
            && inside(l.entry)
            && l.entry >= 4
            && !holes.contains(&l.entry)
            && !holes.contains(&(l.entry - 4))
            && words.get(l.entry as usize / 4 - 1) == Some(&THUMB_ENTRY)
            && words.get(l.cpu as usize / 4).is_some_and(|&w| {
                matches!(
                    Branch::decode(Insn(w), l.cpu),
                    Some(Branch::B { cond: crate::insn::Cond::Al, target }) if target == l.slow
                )
            })
            && is_mrc_p15(l.mpidr)
            && is_mrc_p15(l.tpidrprw)
            && l.mpidr >> 28 == 0xe
            && l.tpidrprw >> 28 == 0xe
            && (l.mpidr >> 12) & 0xf == (l.tpidrprw >> 12) & 0xf;
        if ok {
            Ok(Template { words, layout })
        } else {
            Err(BadLayout(layout))
        }
    }

    /// The template's length in bytes: the size of an optimized-probe slot.
    pub const fn bytes(&self) -> usize {
        self.layout.size as usize
    }

    /// The layout of its holes.
    pub const fn layout(&self) -> TemplateLayout {
        self.layout
    }

    /// Where in a copy an A32 probe's `b` lands (bytes from the slot's start).
    pub const fn arm_entry(&self) -> u32 {
        self.layout.entry
    }

    /// Where in a copy a Thumb probe's `b.w` lands: the [`THUMB_ENTRY`] word, whose
    /// `bx pc` goes on in A32 state at [`Template::arm_entry`].
    pub const fn thumb_entry(&self) -> u32 {
        self.layout.entry - 4
    }

    /// The words of one slot: the template with every hole filled. The branch back to
    /// `fill.addr + 4` is encoded from the slot's own address (the encoder's range
    /// rule), so a slot the probe's `b` reaches but whose branch back does not is an
    /// error, never a wrong branch. A Thumb copy's branch back is a Thumb `b.w`, and a
    /// step-only Thumb copy has none (see [`Fill::thumb`]).
    pub fn fill(&self, fill: Fill, out: &mut [u32]) -> Result<(), BranchError> {
        let back_at = fill.slot.wrapping_add(self.layout.back);
        let target = fill.addr.wrapping_add(4);
        let back = match (fill.thumb, fill.insn == NEVER_RUN) {
            (true, true) => NEVER_RUN,
            (true, false) => {
                // `b.w` in memory order: hw1 in the low half.
                let [hw1, hw2] = ThumbBranch::B { target }.encode(back_at)?;
                u32::from(hw1) | u32::from(hw2) << 16
            }
            (false, _) => Branch::B {
                cond: crate::insn::Cond::Al,
                target,
            }
            .encode(back_at)?
            .word(),
        };
        out[..self.words.len()].copy_from_slice(self.words);
        let mut put = |off: u32, v: u32| out[off as usize / 4] = v;
        put(self.layout.insn, fill.insn);
        put(self.layout.back, back);
        put(self.layout.registry, fill.registry);
        put(self.layout.site, fill.site);
        put(self.layout.callback, fill.callback);
        put(self.layout.pc, fill.addr);
        put(self.layout.running, fill.running);
        put(self.layout.call_pre, fill.call_pre);
        put(self.layout.resume, fill.resume);
        put(self.layout.fast, fill.fast);
        match fill.cpu {
            CpuIndexSource::MpidrAff0 => put(self.layout.cpu, self.layout.mpidr),
            CpuIndexSource::Tpidrprw => put(self.layout.cpu, self.layout.tpidrprw),
            _ => {}
        }
        Ok(())
    }
}

/// Where a copy goes when the frame says where to resume (a handler moved `pc`, or the
/// callback stepped): code shared by every copy, run in place (host tests: a stand-in).
pub(crate) fn resume_address() -> usize {
    #[cfg(target_arch = "arm")]
    {
        arm::resume_address()
    }
    #[cfg(not(target_arch = "arm"))]
    {
        4
    }
}

/// How an optimized probe runs its instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The trampoline executes the original in the slot when no post handler is enabled;
    /// otherwise the callback steps it.
    Direct,
    /// The callback always steps it (it reads or writes PC).
    StepOnly,
}

/// Which trampoline variant the A32 `insn` (already accepted for a breakpoint probe) can
/// use: one table walk, at optimize time (registration does not need the answer).
pub(crate) fn variant_of(insn: Insn) -> Variant {
    let c = decode::classify(insn);
    match c.decoded {
        decode::Decoded::Simulate(kind) => {
            variant_given(kind, decode::uses_pc_classified(insn, &c))
        }
        decode::Decoded::Rejected(_) => Variant::StepOnly,
    }
}

/// [`variant`], given whether the instruction uses PC ([`decode::uses_pc`]).
pub(crate) fn variant_given(kind: SimKind, uses_pc: bool) -> Variant {
    if kind.is_branch() || uses_pc {
        Variant::StepOnly
    } else {
        Variant::Direct
    }
}

/// The word placed in the instruction hole of a step-only slot: a permanent UDF, so a
/// bug that ever ran it would trap instead of running something wrong.
pub const NEVER_RUN: u32 = 0xe7f0_00f0;

/// The word before a copy's A32 entry, where a Thumb probe's `b.w` lands: `bx pc` (Thumb
/// `0x4778`: PC reads as this word's address + 4, bit 0 clear, so it branches to the A32
/// entry in A32 state, changing nothing else) and a `nop` (`0xbf00`, never reached), in
/// memory order — the low halfword first.
pub const THUMB_ENTRY: u32 = 0xbf00_4778;

/// The template the crate copies: on ARM the assembled trampoline below; elsewhere (host
/// tests of the registry) a stand-in of the same shape whose words are `nop`s.
pub(crate) fn template() -> Template {
    #[cfg(target_arch = "arm")]
    {
        arm::template()
    }
    #[cfg(not(target_arch = "arm"))]
    {
        match Template::new(&host::WORDS, host::LAYOUT) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// The host stand-in: the shape of the assembled template (same length, holes at the
/// same words), `nop`s but for the CPU-index hole's branch.
#[cfg(not(target_arch = "arm"))]
mod host {
    use super::TemplateLayout;

    const WORDS_LEN: usize = 51;
    const CPU: usize = 13;
    const SLOW: usize = 37;

    pub(super) static WORDS: [u32; WORDS_LEN] = {
        let mut w = [0xe320_f000; WORDS_LEN];
        w[0] = super::THUMB_ENTRY;
        // b .Lslow: the offset from the branch + 8, in words, in the low 24 bits.
        w[CPU] = 0xea00_0000 | ((SLOW - CPU - 2) as u32 & 0x00ff_ffff);
        w
    };

    pub(super) const LAYOUT: TemplateLayout = TemplateLayout {
        size: WORDS_LEN as u32 * 4,
        insn: 35 * 4,
        back: 36 * 4,
        fast: 43 * 4,
        registry: 44 * 4,
        site: 45 * 4,
        pc: 46 * 4,
        running: 47 * 4,
        resume: 48 * 4,
        call_pre: 49 * 4,
        callback: 50 * 4,
        cpu: CPU as u32 * 4,
        slow: SLOW as u32 * 4,
        entry: 4,
        // mrc p15, 0, r10, c0, c0, 5 and mrc p15, 0, r10, c13, c0, 4, as assembled.
        mpidr: 0xee10_afb0,
        tpidrprw: 0xee1d_af90,
    };
}

#[cfg(target_arch = "arm")]
mod arm {
    use super::{STACK_GAP, Template, TemplateLayout};
    use crate::frame::TrapFrame;
    use crate::platform::MAX_CPUS;
    use crate::step::psr;

    // The trampoline template. It is assembled into a read-only data section and never
    // executed there: `Template::fill` copies it into a slot and fills its holes.
    //
    // SAFETY: this block only defines data (instructions assembled as data in a
    // non-executable section, plus the layout record) and the copies' shared exit (code
    // nothing calls: only a running copy branches to it); it has no effect until a copy
    // is made and branched to. What makes a copy sound to run:
    // - it is entered only by the probed `b<cond>` (at `.Lkp_opt_entry`, A32 state) or
    //   a Thumb probe's `b.w`/`b<c>.w` (at the template's first word, Thumb state), in
    //   the interrupted code's mode, with every register as that code left it; the
    //   Thumb entry's `bx pc` (at a word-aligned address: slots are word-aligned, and
    //   `Template::new` checks the word lies right before the A32 entry) branches to
    //   that entry in A32 state and changes no register, flag or mask, so from there
    //   both entries run the same code (the frame's CPSR then has T and IT clear; the
    //   Thumb callback sets T, and the site is never in an IT block); its `nop` is
    //   never executed;
    // - SP is moved down before anything is stored below it (`sub`, then `stmdb sp!`,
    //   which stores and moves SP in one instruction), so an interrupt taken on the same
    //   stack before the masking `cpsid` cannot overwrite the saved words; the frame lies
    //   STACK_GAP + 16 bytes + the frame below the interrupted SP, below anything the
    //   stepped instruction may write, and SP is rounded down to 8 bytes below it for the
    //   AAPCS calls (the frame itself needs only word alignment, which `ldrd` needs too);
    // - the CPSR is read right after r0-r12 are saved and before any instruction that
    //   could change the flags (none of sub/stm/mrs/cpsid/add/mov/adr/ldm/bic does);
    // - the literals are read with one `ldm` from their own words (`adr` is
    //   PC-relative, so it finds the copy's literals, which `Template::new` checks lie
    //   in this order: fast, registry, site, pc, running, resume, call_pre, callback);
    //   LR is in the list after its value was copied to r6; r12, the base, is in the
    //   list without writeback (it receives its loaded value);
    // - the fast path (only when `fill` put a CPU-index read in the `cpu` hole; in the
    //   template that word branches to the slow path) takes its probe from the `fast`
    //   literal, which the `ldm` reads AFTER `cpsid`: the registry rewrites that word
    //   (an aligned word store, read only as data) together with the site's
    //   `fast_pre_only`, under its lock, while the slot is the site's, so a probe an
    //   unregister took out of the list before its rendezvous is never run by a CPU
    //   that rendezvous held before the `cpsid`. The word is published with a Release
    //   store and no fence is needed here: the probe was completely written before that
    //   store, and every later access to it (the counter here, the handler's reads
    //   through the pointer passed in r0) is address-dependent on the loaded pointer,
    //   which the architecture orders after the pointer's load; a probe's handlers are
    //   immutable, its counters atomics. A null pointer (no such probe) or a set flag
    //   (a hit nested in a handler on this CPU) takes the slow path, whose callback runs
    //   the general path and counts `missed`;
    // - the CPU index is masked to MAX_CPUS (a power of two), so the flag accessed is
    //   always inside the registry's `running` array, whatever the register holds; the
    //   flag is this CPU's alone (interrupts and FIQs masked; a nested hit inside the
    //   handler sees it set); it is set to the entry CPSR's low byte (its mode bits are
    //   never zero; `running` is an array of AtomicU8 whose non-zero means set) and
    //   cleared with a register the `subs` just proved zero, or an explicit zero;
    // - the hit counter is the probe's first field (`Kprobe` is `repr(C)`, asserted
    //   there), 8-byte aligned as an AtomicU64: the `ldrexd`/`strexd` loop is the same
    //   atomic 64-bit add the Rust side compiles to (r2/r3 an even/odd pair, the status
    //   register distinct from them and the base);
    // - the pre handler is called through `call_pre`, an `extern "C"` function (a
    //   handler's own ABI is Rust's, which assembly does not assume) with r0 the probe,
    //   r1 the frame; the callbacks are `extern "C"` too, taking r1 the frame, r2 the
    //   registry, r3 the site (r0 is not an argument). Both preserve r4-r11 and SP:
    //   the trampoline keeps r4 (the frame), r7 (the probed address), r8 (the entry
    //   CPSR), r9 (the running flags), r10 (the CPU index) and r11 (the shared exit)
    //   live across them (the probed code's values are in the frame);
    // - a handler that moved `pc` leaves through `kp_optprobe_moved` (r11, the shared
    //   exit's address, minus the distance the assembler computed between the two
    //   labels: an ARM-state ALU write to PC, which branches), which clears the flag
    //   and sets bit 0 of `pc` when the handler set CPSR.T in the frame: what
    //   `select_state_from_pc` and `resume_from_frame` do on the Rust side, as far as
    //   this exit uses it (bit 0 already set stays set; the frame's T and IT bits are
    //   execution-state bits, which the `msr` there ignores); the shared exit reads
    //   only the frame and registers, so a CPU in it is in no slot;
    // - on the way out the flags and GE bits come from the frame (`msr cpsr_fs`: the
    //   execution-state bits in those fields are ignored by MSR) and the control byte —
    //   masks, state, mode — is the one the trampoline was entered with (`msr cpsr_c`,
    //   same mode, so no banked register changes), then every register is reloaded from
    //   the frame with r4 as the base (in the list, no writeback: its loaded value is
    //   written when the load completes, and an abandoned load restores it), while SP
    //   still lies below the frame; the shared exit loads SP and PC together (the
    //   frame's pc is first copied over its lr word, after LR was reloaded, so the list
    //   {r0-r12, sp, pc} is contiguous; LR and PC in one list is deprecated).
    core::arch::global_asm!(
        ".pushsection .rodata.kp_optprobe_template, \"a\", %progbits",
        ".balign 4",
        ".arm",
        ".global kp_optprobe_template",
        "kp_optprobe_template:",
        "    .thumb",
        "    bx    pc",
        "    nop",
        "    .arm",
        ".Lkp_opt_entry:",
        "    sub   sp, sp, #{gap_and_upper}",
        "    stmdb sp!, {{r0-r12}}",
        "    mrs   r8, cpsr",
        "    cpsid if",
        "    add   r5, sp, #{gap_and_frame}",
        "    mov   r6, lr",
        "    adr   r12, .Lkp_opt_fast",
        "    ldm   r12, {{r0, r2, r3, r7, r9, r11, r12, lr}}",
        "    add   r1, sp, #{off_sp}",
        "    stm   r1, {{r5-r8}}",
        "    mov   r4, sp",
        "    bic   sp, sp, #7",
        ".Lkp_opt_cpu:",
        "    b     .Lkp_opt_slow",
        "    and   r10, r10, #{cpu_mask}",
        "    ldrb  r1, [r9, r10]",
        "    cmp   r0, #1",
        "    cmpcs r1, #0",
        "    bne   .Lkp_opt_slow",
        "    strb  r8, [r9, r10]",
        "1:  ldrexd r2, r3, [r0]",
        "    adds  r2, r2, #1",
        "    adc   r3, r3, #0",
        "    strexd r1, r2, r3, [r0]",
        "    cmp   r1, #0",
        "    bne   1b",
        "    mov   r1, r4",
        "    blx   r12",
        "    ldrd  r0, r1, [r4, #{off_pc}]",
        "    subs  r0, r0, r7",
        "    subne pc, r11, #(kp_optprobe_resume - kp_optprobe_moved)",
        "    strb  r0, [r9, r10]",
        ".Lkp_opt_run:",
        "    msr   cpsr_fs, r1",
        "    msr   cpsr_c, r8",
        "    ldm   r4, {{r0-r12, sp, lr}}",
        ".Lkp_opt_insn:",
        "    .word 0",
        ".Lkp_opt_back:",
        "    .word 0",
        ".Lkp_opt_slow:",
        "    mov   r1, r4",
        "    blx   lr",
        "    cmp   r0, #0",
        "    ldr   r1, [r4, #{off_cpsr}]",
        "    beq   .Lkp_opt_run",
        "    bx    r11",
        ".Lkp_opt_fast:",
        "    .word 0",
        ".Lkp_opt_registry:",
        "    .word 0",
        ".Lkp_opt_site:",
        "    .word 0",
        ".Lkp_opt_pc:",
        "    .word 0",
        ".Lkp_opt_running:",
        "    .word 0",
        ".Lkp_opt_resume:",
        "    .word 0",
        ".Lkp_opt_call_pre:",
        "    .word 0",
        ".Lkp_opt_callback:",
        "    .word 0",
        ".Lkp_opt_end:",
        ".balign 4",
        ".global kp_optprobe_layout",
        "kp_optprobe_layout:",
        "    .word .Lkp_opt_end - kp_optprobe_template",
        "    .word .Lkp_opt_insn - kp_optprobe_template",
        "    .word .Lkp_opt_back - kp_optprobe_template",
        "    .word .Lkp_opt_registry - kp_optprobe_template",
        "    .word .Lkp_opt_site - kp_optprobe_template",
        "    .word .Lkp_opt_callback - kp_optprobe_template",
        "    .word .Lkp_opt_pc - kp_optprobe_template",
        "    .word .Lkp_opt_running - kp_optprobe_template",
        "    .word .Lkp_opt_call_pre - kp_optprobe_template",
        "    .word .Lkp_opt_resume - kp_optprobe_template",
        "    .word .Lkp_opt_fast - kp_optprobe_template",
        "    .word .Lkp_opt_cpu - kp_optprobe_template",
        "    .word .Lkp_opt_slow - kp_optprobe_template",
        "    .word .Lkp_opt_entry - kp_optprobe_template",
        "    mrc   p15, 0, r10, c0, c0, 5",
        "    mrc   p15, 0, r10, c13, c0, 4",
        ".popsection",
        // The copies' shared way out when the frame says where to resume (executed in
        // place, never copied): r4 the frame, r8 the entry CPSR, r1 the frame's CPSR;
        // entered at `kp_optprobe_moved` by the fast path after a handler moved `pc`
        // (r9/r10 this CPU's running flag, still set), at `kp_optprobe_resume` by the
        // slow path when the callback returned non-zero.
        ".pushsection .text.noprobe.kp_optprobe_exit, \"ax\", %progbits",
        ".balign 4",
        ".arm",
        ".global kp_optprobe_moved",
        "kp_optprobe_moved:",
        "    mov   r0, #0",
        "    strb  r0, [r9, r10]",
        "    tst   r1, #{psr_t}",
        "    ldrne r0, [r4, #{off_pc}]",
        "    orrne r0, r0, #1",
        "    strne r0, [r4, #{off_pc}]",
        ".global kp_optprobe_resume",
        "kp_optprobe_resume:",
        "    ldr   lr, [r4, #{off_lr}]",
        "    ldr   r0, [r4, #{off_pc}]",
        "    str   r0, [r4, #{off_lr}]",
        "    msr   cpsr_fs, r1",
        "    msr   cpsr_c, r8",
        "    ldm   r4, {{r0-r12, sp, pc}}",
        ".popsection",
        gap_and_upper = const STACK_GAP + UPPER,
        gap_and_frame = const STACK_GAP + TrapFrame::SIZE as u32,
        off_sp = const TrapFrame::OFFSET_SP,
        off_lr = const TrapFrame::OFFSET_LR,
        off_pc = const TrapFrame::OFFSET_PC,
        off_cpsr = const TrapFrame::OFFSET_CPSR,
        cpu_mask = const MAX_CPUS - 1,
        psr_t = const psr::T,
    );

    /// The frame words above r0-r12 (sp, lr, pc, cpsr), stored by one `stm` after the
    /// `stmdb` of r0-r12 that ends at them.
    const UPPER: u32 = (TrapFrame::SIZE - TrapFrame::OFFSET_SP) as u32;
    const _: () = assert!(UPPER == 16 && TrapFrame::OFFSET_SP == 13 * 4);
    // `ldrd r0, r1, [r4, #off_pc]` loads pc and cpsr.
    const _: () = assert!(TrapFrame::OFFSET_CPSR == TrapFrame::OFFSET_PC + 4);

    unsafe extern "C" {
        /// The copies' shared way out (code, in place).
        static kp_optprobe_resume: [u32; 0];
        /// The first word of the template (its label; the template is data).
        static kp_optprobe_template: [u32; 0];
        /// The layout record the assembler computed from the template's labels.
        static kp_optprobe_layout: TemplateLayout;
    }

    pub(super) fn resume_address() -> usize {
        // Only the symbol's address is taken (safe for an extern static): nothing is read.
        (&raw const kp_optprobe_resume) as usize
    }

    pub(super) fn template() -> Template {
        // SAFETY: both symbols are defined by the global_asm! above, in a read-only
        // section, and never written: kp_optprobe_layout is sixteen words (fourteen label
        // differences and two assembled instructions; a #[repr(C)] struct of sixteen
        // u32), and kp_optprobe_template starts `layout.size` bytes of words, 4-byte
        // aligned, that live for the whole program.
        let (layout, words) = unsafe {
            let layout = core::ptr::addr_of!(kp_optprobe_layout).read();
            let start = core::ptr::addr_of!(kp_optprobe_template).cast::<u32>();
            (
                layout,
                core::slice::from_raw_parts(start, layout.size as usize / 4),
            )
        };
        match Template::new(words, layout) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoded, decode};
    use std::format;

    const MRC_MPIDR_R10: u32 = 0xee10_afb0; // mrc p15, 0, r10, c0, c0, 5
    const MRC_TPIDRPRW_R10: u32 = 0xee1d_af90; // mrc p15, 0, r10, c13, c0, 4

    /// A small template: the Thumb entry (word 0) before the A32 entry (word 1), the
    /// CPU-index hole (word 2) branches to `slow` (word 5).
    static WORDS: [u32; 16] = {
        let mut w = [0xe320_f000; 16];
        w[0] = THUMB_ENTRY;
        w[2] = 0xea00_0001; // b +4 words from 8: 20
        w
    };

    fn layout() -> TemplateLayout {
        TemplateLayout {
            size: 64,
            cpu: 8,
            insn: 12,
            back: 16,
            slow: 20,
            fast: 24,
            registry: 28,
            site: 32,
            pc: 36,
            running: 40,
            resume: 44,
            call_pre: 48,
            callback: 52,
            entry: 4,
            mpidr: MRC_MPIDR_R10,
            tpidrprw: MRC_TPIDRPRW_R10,
        }
    }

    #[test]
    fn a_layout_must_describe_distinct_aligned_holes_inside_the_template() {
        assert!(Template::new(&WORDS, layout()).is_ok());
        let mut no_branch = WORDS;
        no_branch[2] = 0xea00_0002; // branches past `slow`
        let no_branch: &'static [u32] = Box::leak(Box::new(no_branch));
        assert!(Template::new(no_branch, layout()).is_err());
        let bad = [
            TemplateLayout {
                size: 68,
                ..layout()
            }, // longer than the words
            TemplateLayout {
                callback: 64,
                ..layout()
            }, // hole past the end
            TemplateLayout {
                site: 28,
                ..layout()
            }, // two holes in one word
            TemplateLayout {
                callback: 50,
                ..layout()
            }, // misaligned hole
            TemplateLayout {
                back: 4,
                ..layout()
            }, // back not right after insn
            TemplateLayout { pc: 24, ..layout() }, // literals not in the `ldm`'s order
            TemplateLayout {
                slow: 4,
                ..layout()
            }, // the hole does not branch to `slow`
            TemplateLayout {
                slow: 12,
                ..layout()
            }, // `slow` is a hole
            TemplateLayout {
                entry: 8,
                ..layout()
            }, // the word before the A32 entry is not the Thumb entry
            TemplateLayout {
                entry: 0,
                ..layout()
            }, // no room for the Thumb entry
            TemplateLayout {
                entry: 12,
                ..layout()
            }, // the entry is a hole
            TemplateLayout {
                mpidr: 0xe280_0001,
                ..layout()
            }, // not an MRC
            TemplateLayout {
                tpidrprw: 0xee1d_9f90,
                ..layout()
            }, // another register than the MPIDR read's
        ];
        for l in bad {
            let e = Template::new(&WORDS, l).unwrap_err();
            assert_eq!(e, BadLayout(l));
            assert!(format!("{e}").contains("layout is inconsistent"), "{e}");
        }
    }

    fn fill() -> Fill {
        Fill {
            slot: 0x10_0000,
            addr: 0x8000,
            insn: 0xe280_0001,
            registry: 0x1111,
            site: 0x2222,
            callback: 0x3333,
            running: 0x4444,
            call_pre: 0x5555,
            resume: 0x6666,
            fast: 0x7777,
            cpu: CpuIndexSource::None,
            thumb: false,
        }
    }

    #[test]
    fn a_thumb_copy_runs_its_original_in_thumb_state_or_never() {
        let t = Template::new(&WORDS, layout()).unwrap();
        assert_eq!((t.thumb_entry(), t.arm_entry()), (0, 4));
        let mut out = [0u32; 16];
        // Step-only: no branch back, so a slot no branch back could reach from, and a
        // halfword address that is 2 mod 4, are fine.
        let step_only = Fill {
            addr: 0x8002,
            slot: 0x0800_0000,
            insn: NEVER_RUN,
            thumb: true,
            ..fill()
        };
        t.fill(step_only, &mut out).unwrap();
        assert_eq!(out[0], THUMB_ENTRY, "the Thumb entry is copied");
        assert_eq!((out[3], out[4]), (NEVER_RUN, NEVER_RUN));
        assert_eq!(out[9], 0x8002, "the frame's pc is the halfword address");
        // Direct: add.w r0, r1, r2 (0xeb01 0x0002) in memory order, then b.w back.
        let direct = Fill {
            addr: 0x8002,
            insn: 0x0002_eb01,
            thumb: true,
            ..fill()
        };
        t.fill(direct, &mut out).unwrap();
        assert_eq!(out[3], 0x0002_eb01);
        let back = ThumbBranch::decode(out[4] as u16, (out[4] >> 16) as u16, 0x10_0010);
        assert_eq!(back, Some(ThumbBranch::B { target: 0x8006 }));
        let far = Fill {
            slot: 0x0800_0000,
            ..direct
        };
        assert!(t.fill(far, &mut out).is_err(), "b.w reaches ±16 MiB");
    }

    #[test]
    fn fill_puts_every_value_in_its_hole_and_branches_back_after_the_probe() {
        let t = Template::new(&WORDS, layout()).unwrap();
        let mut out = [0u32; 16];
        t.fill(fill(), &mut out).unwrap();
        assert_eq!(&out[..3], &WORDS[..3], "code words are copied unchanged");
        assert_eq!(out[3], 0xe280_0001);
        let back = Branch::decode(Insn(out[4]), 0x10_0010).unwrap();
        assert_eq!(back.target(), 0x8004);
        assert_eq!(back.cond(), crate::insn::Cond::Al);
        assert_eq!(&out[5..6], &WORDS[5..6]);
        assert_eq!(
            &out[6..14],
            &[
                0x7777, 0x1111, 0x2222, 0x8000, 0x4444, 0x6666, 0x5555, 0x3333
            ]
        );
        assert_eq!(&out[14..], &WORDS[14..]);
        // A slot whose branch back cannot reach is an error, not a wrong branch.
        let far = Fill {
            slot: 0x0800_0000,
            ..fill()
        };
        assert!(t.fill(far, &mut out).is_err());
    }

    #[test]
    fn the_cpu_index_hole_reads_the_platforms_register_or_keeps_the_slow_branch() {
        let t = Template::new(&WORDS, layout()).unwrap();
        let mut out = [0u32; 16];
        for (cpu, word) in [
            (CpuIndexSource::None, WORDS[2]),
            (CpuIndexSource::MpidrAff0, MRC_MPIDR_R10),
            (CpuIndexSource::Tpidrprw, MRC_TPIDRPRW_R10),
        ] {
            t.fill(Fill { cpu, ..fill() }, &mut out).unwrap();
            assert_eq!(out[2], word, "{cpu:?}");
            let mut rest = out;
            rest[2] = WORDS[2];
            let mut none = [0u32; 16];
            t.fill(fill(), &mut none).unwrap();
            assert_eq!(rest, none, "{cpu:?} changes only the hole");
        }
    }

    #[test]
    fn the_stand_in_template_has_the_assembled_ones_shape() {
        // The host stand-in mirrors the ARM template (checked by `Template::new` there):
        // a hole-for-hole layout, the CPU reads `mrc ... r10`.
        let l = template().layout();
        assert_eq!((l.mpidr, l.tpidrprw), (MRC_MPIDR_R10, MRC_TPIDRPRW_R10));
        assert_eq!(l.entry, 4, "the Thumb entry is the first word");
        assert!(l.cpu < l.insn && l.insn < l.slow && l.slow < l.registry);
    }

    #[test]
    fn only_instructions_that_never_touch_pc_run_directly() {
        for (word, want) in [
            (0xe280_0001, Variant::Direct),   // add r0, r0, #1
            (0x1280_0001, Variant::Direct),   // addne r0, r0, #1
            (0xe92d_4010, Variant::Direct),   // push {r4, lr}
            (0xe591_0004, Variant::Direct),   // ldr r0, [r1, #4]
            (0xe12f_ff1e, Variant::StepOnly), // bx lr
            (0xea00_0010, Variant::StepOnly), // b
            (0xeb00_0010, Variant::StepOnly), // bl
            (0xe8bd_8010, Variant::StepOnly), // pop {r4, pc}
            (0xe59f_0004, Variant::StepOnly), // ldr r0, [pc, #4]
            (0xe1a0_000f, Variant::StepOnly), // mov r0, pc
            (0xe28f_0008, Variant::StepOnly), // adr r0 (add r0, pc, #8)
            (0xe58d_f000, Variant::StepOnly), // str pc, [sp]
            (0xe92d_8000, Variant::StepOnly), // push {pc}
        ] {
            assert!(
                matches!(decode(Insn(word)), Decoded::Simulate(_)),
                "{word:#010x} is not supported"
            );
            assert_eq!(variant_of(Insn(word)), want, "{word:#010x}");
        }
        assert!(
            decode::uses_pc(Insn(0xe7f0_00f0)),
            "rejected words never run out of place"
        );
        assert_eq!(
            variant_of(Insn(0xe7f0_00f0)),
            Variant::StepOnly,
            "nor are they given a direct copy"
        );
    }

    #[test]
    fn the_never_run_word_is_undefined() {
        assert!(matches!(decode(Insn(NEVER_RUN)), Decoded::Rejected(_)));
    }

    #[test]
    fn the_template_leaves_room_for_what_a_stepped_instruction_writes() {
        let t = template();
        assert!(t.bytes() >= 4 * 6);
        assert!(
            t.bytes() <= 4 * 64,
            "registry buffers hold at most 64 words"
        );
    }
}
