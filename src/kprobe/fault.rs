//! Faults in stepped code belong to the probed instruction: a load or store that aborts
//! while the crate steps a probed instruction, or while an optimized probe's slot runs
//! it, is handed back to the kernel as if the probed instruction had aborted in place.
//!
//! # What the kernel does
//!
//! Its data-abort (and prefetch-abort) handler saves a full [`TrapFrame`] of the aborted
//! context — r0–r12, the aborted mode's sp and lr, the address of the aborting
//! instruction as `pc`, the SPSR as `cpsr` — and, before treating the abort as its own,
//! calls [`Kprobes::fixup_fault`]. When that returns `Some`, the frame now holds the
//! probed context: `pc` is the probed instruction's address and every register is what
//! that instruction ran with (after the pre handlers); the fault address and status
//! registers (DFAR/DFSR) are untouched and describe the probed instruction's own access,
//! because the crate made exactly that access. The kernel then handles the abort as if
//! taken at the probed instruction — report it, page something in and return to `pc` to
//! re-execute (which hits the probe again), or fix it up (e.g. skip to `pc + 4`, as an
//! exception table does) — and returns through the frame, which may change the mode.
//!
//! # What is abandoned
//!
//! The code that was running when the abort was taken (the step engine, called from the
//! undefined-instruction handler or from a trampoline) never resumes: the kernel returns
//! to the probed context instead. Nothing is held on that path — no lock, no counter to
//! undo (the hit was counted before the step; post handlers do not run, as they would not
//! after a faulting instruction) — and the per-CPU state the hit set (the reentrancy flag
//! that would make every later hit on this CPU count as `missed`, and the record of the
//! step in progress) is cleared here. The stack it used is simply given up: the exception
//! return restores the probed context's own sp. A kernel whose undefined-instruction
//! entry ran the handler on another mode's stack than the probed code's (the test kernel
//! runs it in SYS mode) must restore that stack pointer as it was before the trap; the
//! frame the step ran from, `FaultFixup::Stepped { stepped_frame, .. }`, is the one its
//! undefined-instruction entry built, so the kernel finds its own saved words next to it.
//!
//! # The three places a stepped access can run
//!
//! - the breakpoint path: the step engine's access, through
//!   `arch::memory::DirectMemory` (ARM builds), from
//!   [`Kprobes::handle_undefined`];
//! - an optimized probe's step path: the same, from the trampoline's callback;
//! - an optimized probe's direct path: the original instruction itself, in the slot,
//!   with the probed context's registers already restored — only `pc` differs.
//!
//! The first two are recognised by a per-CPU record the hit path keeps around the step
//! (the frame it steps from) together with the aborting pc being one of `DirectMemory`'s
//! access instructions (on ARM); the third by the aborting pc being the instruction word
//! of one of this registry's trampoline copies. Emulation slots
//! ([`crate::step::emulation`]) run only register-only instructions, which cannot abort.

use super::{Kprobes, MAX_CPUS, Site};
use crate::cache::CacheOps;
use crate::frame::TrapFrame;
use crate::optprobe::{self, Template, Variant};
use crate::platform::Platform;
use crate::step;
use core::sync::atomic::{AtomicUsize, Ordering, compiler_fence};

/// What [`Kprobes::fixup_fault`] recognised; the frame now describes the probed
/// instruction at `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultFixup {
    /// A load or store the step engine made for the probe at `addr` (breakpoint path or
    /// an optimized probe's step path).
    Stepped {
        /// The probed address (the frame's new `pc`; for a Thumb probe the halfword
        /// address, bit 0 clear, with CPSR.T set in the frame).
        addr: usize,
        /// Where the frame the step ran from lies (the undefined-instruction entry's
        /// frame on the breakpoint path, the trampoline's on the optimized path).
        stepped_frame: usize,
    },
    /// The original instruction of the optimized probe at `addr`, running in its slot.
    InSlot {
        /// The probed address (the frame's new `pc`).
        addr: usize,
    },
}

impl FaultFixup {
    /// The probed address the fault now appears at.
    pub const fn addr(&self) -> usize {
        match *self {
            FaultFixup::Stepped { addr, .. } | FaultFixup::InSlot { addr } => addr,
        }
    }
}

/// Per CPU, the step in progress: the address of the frame it steps from (null when
/// none), with bit 0 set when it is a `missed` hit inside an outer hit's handler (whose
/// reentrancy flag a fixup must leave set). Only that CPU reads or writes its word, with
/// interrupts masked: Relaxed accesses and compiler fences suffice.
pub(super) struct Stepping([AtomicUsize; MAX_CPUS]);

/// The record a step replaced, put back when it ends.
pub(super) struct Outer(usize);

const MISSED: usize = 1;
const _: () = assert!(core::mem::align_of::<TrapFrame>() > MISSED);

impl Stepping {
    pub(super) const fn new() -> Stepping {
        Stepping([const { AtomicUsize::new(0) }; MAX_CPUS])
    }

    /// Records that `cpu` is about to step from `frame`.
    #[inline(always)]
    pub(super) fn begin(&self, cpu: usize, frame: &mut TrapFrame, missed: bool) -> Outer {
        let r = &self.0[cpu];
        let outer = Outer(r.load(Ordering::Relaxed));
        r.store(
            frame as *mut TrapFrame as usize | usize::from(missed),
            Ordering::Relaxed,
        );
        // The record is written before any access of the step (an abort handler on this
        // CPU reads it).
        compiler_fence(Ordering::SeqCst);
        outer
    }

    /// The step of `cpu` ended (it did not fault): the record is as before it began.
    #[inline(always)]
    pub(super) fn end(&self, cpu: usize, outer: Outer) {
        compiler_fence(Ordering::SeqCst);
        self.0[cpu].store(outer.0, Ordering::Relaxed);
    }
}

/// The size of one instruction slot for `template` (the registry's allocator geometry).
pub(super) fn slot_bytes(template: &Template) -> usize {
    template
        .bytes()
        .max(step::EMULATION_SLOT_BYTES)
        .next_multiple_of(8)
}

/// Whether an abort at `pc` can be a stepped access: on ARM, `pc` must be one of
/// `DirectMemory`'s load/store instructions (a fault elsewhere while a step is recorded —
/// in an FIQ handler, say — is not the probed instruction's). Host tests have no such
/// instructions: their fake memory calls the fixup itself, as an abort would.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn stepped_access(pc: u32) -> bool {
    #[cfg(target_arch = "arm")]
    {
        crate::arch::memory::is_access_instruction(pc)
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let _ = pc;
        true
    }
}

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// Call from the kernel's abort handlers with the aborted context's frame: if the
    /// abort was a probed instruction's (a stepped access on this CPU, or the original
    /// running in an optimized probe's slot), rewrites `frame` into the probed
    /// instruction's context — `pc` = the probed address, the registers it ran with —
    /// clears this CPU's per-hit state, and says what it found; `None` (frame untouched)
    /// when the abort is not a probe's. See the [module docs](crate::kprobe::fault) for what the kernel
    /// does next and what happens to the abandoned handler stack.
    ///
    /// Runs in the abort handler with interrupts masked; takes no lock.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub fn fixup_fault(&self, frame: &mut TrapFrame) -> Option<FaultFixup> {
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        let record = &self.stepping.0[cpu];
        let recorded = record.load(Ordering::Relaxed);
        let stepped = (recorded & !MISSED) as *const TrapFrame;
        if !stepped.is_null() && stepped_access(frame.pc) {
            // SAFETY: a non-null record points at the frame the step on this CPU runs
            // from (set by `begin` from a live `&mut TrapFrame`, reset by `end` before
            // that borrow ends). The step was interrupted by this abort and never
            // resumes (the kernel returns into the frame we write), so the frame is still
            // alive — on the stack above the aborted code — and nothing else uses it;
            // the step engine writes it only after a step completes.
            *frame = unsafe { *stepped };
            record.store(0, Ordering::Relaxed);
            if recorded & MISSED == 0 {
                self.running[cpu].store(0, Ordering::Relaxed);
            }
            return Some(FaultFixup::Stepped {
                addr: frame.pc as usize,
                stepped_frame: stepped as usize,
            });
        }
        let addr = self.direct_original_at(frame.pc as usize)?;
        frame.pc = addr as u32;
        Some(FaultFixup::InSlot { addr })
    }

    /// If `pc` is the instruction word of one of this registry's trampoline copies, the
    /// probed address that copy belongs to.
    ///
    /// The copy is identified by its own literals (this registry, its callback, one of
    /// its sites), read through the platform's view of slot memory. The copy cannot be
    /// reused meanwhile: a slot is reclaimed only after a rendezvous, which this CPU —
    /// still in the slot as far as the registry knows, now in an abort handler with
    /// interrupts masked — cannot have answered.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn direct_original_at(&self, pc: usize) -> Option<usize> {
        let template = optprobe::template();
        let l = template.layout();
        let region = self.platform.slot_region();
        let size = slot_bytes(&template);
        let start = pc.checked_sub(l.insn as usize)?;
        let index = start.checked_sub(region.start)?;
        if !index.is_multiple_of(size) || start.checked_add(size)? > region.end {
            return None;
        }
        // Literals are 32-bit addresses (host tests keep their low halves).
        let word = |off: u32| self.read_text(start + off as usize);
        let into_sites = word(l.site).wrapping_sub(self.sites.as_ptr() as usize as u32) as usize;
        let ours = word(l.registry) == self as *const Self as usize as u32
            && [
                (Variant::Direct, false, false),
                (Variant::Direct, true, false),
                (Variant::StepOnly, false, false),
                (Variant::Direct, false, true),
            ]
            .iter()
            .any(|&(v, fast, thumb)| {
                word(l.callback) == Self::callback_address(v, fast, thumb) as u32
            })
            && into_sites < N * core::mem::size_of::<Site>()
            && into_sites.is_multiple_of(core::mem::size_of::<Site>());
        ours.then(|| word(l.pc) as usize)
    }
}
