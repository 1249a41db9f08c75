//! The hit path: a trap or a trampoline finds its site, runs the handlers, steps or runs
//! the original, and says where to resume.

use super::thumb::ThumbInsn;
use super::*;

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// The trap path: call from the kernel's undefined-instruction handler with the
    /// trapped frame and a [`Memory`] that performs the original's accesses (on the
    /// target, `arch::memory::DirectMemory`). Masks IRQs and FIQs for the handlers (an
    /// undefined-instruction exception masks IRQs only) and restores them; an entry that
    /// has masked both already (the crate's shipped `armv7_kprobes_undefined_entry`
    /// does) can call [`Kprobes::handle_undefined_masked`] instead.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub fn handle_undefined(
        &self,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        let interrupts = self.platform.mask_interrupts();
        // SAFETY: IRQs and FIQs are masked just above, until the restore below.
        let trap = unsafe { self.handle_undefined_masked(frame, mem) };
        self.platform.restore_interrupts(interrupts);
        trap
    }

    /// [`Kprobes::handle_undefined`] for an entry that has masked IRQs and FIQs already:
    /// the same trap path without masking and restoring them (what the crate's shipped
    /// entries and `glue::undefined` (feature `exception-glue`) use).
    ///
    /// # Safety
    ///
    /// IRQs and FIQs must be masked on the calling CPU for the whole call. A hit reads
    /// its probe site, handlers and step plan without a lock because no rendezvous (which
    /// every text change and every unregistration waits for) can complete while a CPU
    /// runs with both masked; an interrupt taken inside the hit could park this CPU in a
    /// rendezvous that frees what the hit is using.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub unsafe fn handle_undefined_masked(
        &self,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        debug_assert!(
            self.platform.interrupts_masked(),
            "handle_undefined_masked with IRQs unmasked"
        );
        if frame.cpsr & step::psr::T != 0 {
            return self.thumb_trap(frame, mem);
        }
        let pc = frame.pc as usize;
        let Some(site) = self.find_trapped(pc) else {
            return self.no_site(pc);
        };
        // SAFETY: the site (its plan) was written before the rendezvous that put the
        // breakpoint this CPU trapped on into text (see `find_trapped`), and is not
        // rewritten while the breakpoint is there.
        let plan = unsafe { &*site.plan.get() };
        // Relaxed: what the hit reads through the pointer is the probe's handlers (fixed
        // at construction) and its atomic counters; a stale pointer is a hit that began
        // before the change, which the change's rendezvous waits for.
        let Some(p) = live(site.fast.load(Ordering::Relaxed)) else {
            return self.trap_general(site, plan, frame, mem);
        };
        // `fast` is set only when the original's condition always passes: no flag test.
        let mut failure = Failure::new();
        match self.fire_one(site, p, plan, frame, mem, false, &mut failure) {
            // SAFETY: `step` wrote the error before returning `StepFailed`, and only
            // `step` makes that value (`Failure`'s contract).
            Fired::StepFailed => Trap::StepFailed(unsafe { failure.take() }),
            Fired::Done | Fired::RunInPlace => Trap::Handled,
        }
    }

    /// The trap path of a site without a fast probe (several probes, a disabled one, a
    /// conditional original): the condition, then [`Kprobes::fire`].
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    fn trap_general(
        &self,
        site: &Site,
        plan: &Plan,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        let original = Insn(site.original.load(Ordering::Relaxed));
        if !original.always_passes() && !original.cond().passes(frame.cpsr) {
            frame.pc = frame.pc.wrapping_add(4);
            return Trap::Handled;
        }
        self.trap_fire(site, plan, frame, mem)
    }

    /// A trap whose condition passed, on the fast path for the site's one enabled
    /// probe `p`: [`Kprobes::fire_one`], and what the trap handler reports.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(super) fn trap_fire_one(
        &self,
        site: &Site,
        p: &Kprobe,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        let mut failure = Failure::new();
        match self.fire_one(site, p, plan, frame, mem, false, &mut failure) {
            // SAFETY: as in `handle_undefined_masked`.
            Fired::StepFailed => Trap::StepFailed(unsafe { failure.take() }),
            Fired::Done | Fired::RunInPlace => Trap::Handled,
        }
    }

    /// A trap whose condition passed, on the general path: [`Kprobes::fire`], and what
    /// the trap handler reports.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(super) fn trap_fire(
        &self,
        site: &Site,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        let mut failure = Failure::new();
        match self.fire(site, plan, frame, mem, false, &mut failure) {
            // SAFETY: as in `handle_undefined_masked`.
            Fired::StepFailed => Trap::StepFailed(unsafe { failure.take() }),
            Fired::Done | Fired::RunInPlace => Trap::Handled,
        }
    }

    /// A trap at `pc` where no site is: whether it is ours to retry.
    #[cold]
    #[inline(never)]
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn no_site(&self, pc: usize) -> Trap {
        let text = self.platform.kernel_text();
        if !pc.is_multiple_of(4) || pc < text.start || pc >= text.end {
            return Trap::NotOurs;
        }
        // Another CPU may have just restored the original here: run it. Anything still
        // undefined (our breakpoint without a site, the kernel's own UDF) is not ours.
        let word = Insn(self.read_text(pc));
        let undefined = decode::decode(word) == Decoded::Rejected(RejectReason::Undefined);
        if BreakpointWord::is_breakpoint(word) || undefined {
            Trap::NotOurs
        } else {
            Trap::Retry
        }
    }

    /// The fast path of a hit that steps: the site's one enabled probe (`Site::fast`).
    /// The same as [`Kprobes::fire`] for a one-probe list, without the list snapshot and
    /// the enabled filter.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn fire_one(
        &self,
        site: &Site,
        p: &Kprobe,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        direct: bool,
        failure: &mut Failure,
    ) -> Fired {
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        let running = &self.running[cpu];
        let mut step = |frame: &mut TrapFrame, mem: &mut _, missed: bool| {
            self.step_or_leave(cpu, plan, frame, mem, missed, direct, failure)
        };
        if running.load(Ordering::Relaxed) != 0 {
            p.missed.fetch_add(1, Ordering::Relaxed);
            return if direct {
                Fired::RunInPlace
            } else {
                step(frame, mem, true)
            };
        }
        running.store(1, Ordering::Relaxed);
        p.hits.fetch_add(1, Ordering::Relaxed);
        if let Some(pre) = p.pre {
            pre(p, frame);
        }
        // A step leaves bit 0 of pc clear (it interworks through its own result): only a
        // handler's pc asks `select_state_from_pc` for a state. The hit is at the site's
        // address (read again rather than kept across the handler call).
        let result = if frame.pc as usize != plan.site_pc(site) {
            select_state_from_pc(frame);
            Fired::Done
        } else if direct && p.post.is_none() {
            Fired::RunInPlace
        } else {
            let r = step(frame, mem, false);
            if r == Fired::Done
                && let Some(post) = p.post
            {
                post(p, frame);
                select_state_from_pc(frame);
            }
            r
        };
        running.store(0, Ordering::Relaxed);
        result
    }

    /// [`Kprobes::step`] for a hit: on a direct site a step that fails is left to the
    /// trampoline, which runs the original itself.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn step_or_leave(
        &self,
        cpu: usize,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        missed: bool,
        direct: bool,
        failure: &mut Failure,
    ) -> Fired {
        match self.step(cpu, plan, frame, mem, missed, failure) {
            Fired::StepFailed if direct => Fired::RunInPlace,
            r => r,
        }
    }

    /// Steps the original at `frame.pc`, recorded for `fixup_fault` while it runs
    /// (`missed`: inside a handler of an outer hit, whose running flag a fixup must leave
    /// set).
    /// A planned step that cannot access memory needs no record.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        cpu: usize,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        missed: bool,
        failure: &mut Failure,
    ) -> Fired {
        let pc = frame.pc;
        let stepped = if plan.may_access_memory() {
            let outer = self.stepping.begin(cpu, frame, missed);
            let stepped = plan.run(pc, frame, mem);
            self.stepping.end(cpu, outer);
            stepped
        } else {
            plan.run(pc, frame, mem)
        };
        match stepped {
            Ok(()) => Fired::Done,
            Err(e) => {
                failure.set(e);
                Fired::StepFailed
            }
        }
    }

    /// A hit, after the condition passed: handlers and the step, or a `missed` count
    /// when this CPU is already inside a handler. With `direct`, an instruction that
    /// needs no post handler (or whose step fails) is left for the trampoline to run.
    /// The general path: several probes, disabled ones, post handlers (a site whose
    /// `fast` probe is set takes [`Kprobes::fire_one`] or [`Kprobes::direct_hit`]).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn fire(
        &self,
        site: &Site,
        plan: &impl Stepper,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        direct: bool,
        failure: &mut Failure,
    ) -> Fired {
        let pc = frame.pc;
        // The probes enabled when the hit starts: the ones whose pre handler runs are the
        // ones whose post handler runs, even if one is disabled meanwhile.
        let (active, n) = site.enabled_probes();
        let each = || active[..n].iter().filter_map(|p| live(*p));
        // Only this CPU touches its flag, with interrupts masked, and a hit nested in a
        // handler of this CPU runs strictly inside it: a plain load and store suffice.
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        let running = &self.running[cpu];
        let mut step = |frame: &mut TrapFrame, mem: &mut _, missed: bool| {
            self.step_or_leave(cpu, plan, frame, mem, missed, direct, failure)
        };
        if running.load(Ordering::Relaxed) != 0 {
            for p in each() {
                p.missed.fetch_add(1, Ordering::Relaxed);
            }
            return if direct {
                Fired::RunInPlace
            } else {
                step(frame, mem, true)
            };
        }
        running.store(1, Ordering::Relaxed);
        for p in each() {
            p.hits.fetch_add(1, Ordering::Relaxed);
            if let Some(pre) = p.pre {
                pre(p, frame);
            }
        }
        let result = if frame.pc != pc {
            Fired::Done
        } else if direct && each().all(|p| p.post.is_none()) {
            Fired::RunInPlace
        } else {
            let r = step(frame, mem, false);
            if r == Fired::Done {
                for p in each() {
                    if let Some(post) = p.post {
                        post(p, frame);
                    }
                }
            }
            r
        };
        running.store(0, Ordering::Relaxed);
        if result == Fired::Done {
            select_state_from_pc(frame);
        }
        result
    }

    /// The optimized path: a trampoline copy calls this (through [`optimized_entry`] or,
    /// for a [`Variant::Direct`] slot, [`direct_entry`]) with IRQs and FIQs masked and
    /// the frame it built. Returns 0 when the trampoline is to run the original
    /// instruction itself and branch back, non-zero when the frame says where to resume.
    /// Of the frame's CPSR the trampoline takes back only the flags and GE bits (NZCVQ,
    /// GE[3:0]); masks, state and mode stay as it was entered with. A step into Thumb
    /// state therefore sets bit 0 of `pc`, which the trampoline's final load of PC
    /// interworks on.
    ///
    /// # Panics
    ///
    /// When the original reads or writes PC and cannot be stepped (an UNPREDICTABLE
    /// branch target, or a misaligned load to PC): natively that would be UNPREDICTABLE
    /// too, and there is no instruction to fall back to. Instructions that do not touch
    /// PC run natively in the trampoline instead; an abort there has pc in the slot, which
    /// [`Kprobes::fixup_fault`] moves to the probed instruction.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) fn optimized_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> u32 {
        if site.direct.load(Ordering::Relaxed) {
            self.direct_hit(site, frame, mem)
        } else {
            self.stepped_hit(site, frame, mem)
        }
    }

    /// [`Kprobes::optimized_hit`] for a [`Variant::Direct`] slot (whose trampoline calls
    /// [`direct_entry`]): the fast path — the site's one enabled probe, without a post
    /// handler — needs neither the decode nor a step.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    #[inline(always)]
    pub(super) fn direct_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> u32 {
        // Acquire: pairs with `refresh_fast`'s Release.
        let Some(p) = live(site.fast_pre_only.load(Ordering::Acquire)) else {
            return self.general_optimized_hit(site, frame, mem, true);
        };
        match self.run_pre_only(p, frame) {
            None => {
                p.missed.fetch_add(1, Ordering::Relaxed);
                0
            }
            Some(false) => 0,
            Some(true) => {
                select_state_from_pc(frame);
                resume_from_frame(frame)
            }
        }
    }

    /// The direct slots' fast path: `p` (a site's `fast_pre_only` probe) counts the hit
    /// and runs its pre handler with this CPU's reentrancy flag set. `None` when this CPU
    /// is already inside a handler (nothing done), else whether the handler moved `pc`.
    #[inline(always)]
    fn run_pre_only(&self, p: &Kprobe, frame: &mut TrapFrame) -> Option<bool> {
        let pc = frame.pc;
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        let running = &self.running[cpu];
        if running.load(Ordering::Relaxed) != 0 {
            return None;
        }
        running.store(1, Ordering::Relaxed);
        p.hits.fetch_add(1, Ordering::Relaxed);
        if let Some(pre) = p.pre {
            pre(p, frame);
        }
        running.store(0, Ordering::Relaxed);
        Some(frame.pc != pc)
    }

    /// [`Kprobes::optimized_hit`] for a [`Variant::StepOnly`] slot.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    #[inline(always)]
    pub(super) fn stepped_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> u32 {
        self.optimized_general(site, frame, mem, false)
    }

    /// [`Kprobes::optimized_general`] out of line: the direct slots' way off their fast
    /// path.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    #[inline(never)]
    fn general_optimized_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        direct: bool,
    ) -> u32 {
        self.optimized_general(site, frame, mem, direct)
    }

    /// The optimized path through [`Kprobes::fire`] (or, stepping, the fast path
    /// [`Kprobes::fire_one`]).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    fn optimized_general(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        direct: bool,
    ) -> u32 {
        // SAFETY: an optimized site's plan was written before its trampoline was
        // published by a rendezvous, and is not rewritten while any branch to it exists.
        let plan = unsafe { &*site.plan.get() };
        let mut failure = Failure::new();
        // Relaxed: as in `handle_undefined`.
        let fired = match live(site.fast.load(Ordering::Relaxed)) {
            Some(p) => self.fire_one(site, p, plan, frame, mem, direct, &mut failure),
            None => self.fire(site, plan, frame, mem, direct, &mut failure),
        };
        match fired {
            Fired::Done => resume_from_frame(frame),
            Fired::RunInPlace => 0,
            // SAFETY: as in `handle_undefined`.
            Fired::StepFailed => cannot_step(frame.pc, unsafe { failure.take() }),
        }
    }
}

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// [`Kprobes::thumb_optimized_hit`] of a direct copy, with the fast path of
    /// [`Kprobes::direct_hit`] first: the site's one enabled probe without a post
    /// handler runs, and the copy resumes at `run` unless the handler moved `pc` —
    /// neither the decode nor a step is looked at.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    pub(super) fn thumb_direct_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        run: usize,
    ) -> u32 {
        // Relaxed as in `thumb_trap` (the branch's rendezvous ordered the probe's
        // stores; a probe swapped in later is published by `refresh_fast`'s Release,
        // and every access through the pointer depends on its address).
        let Some(p) = live(site.fast_pre_only.load(Ordering::Relaxed)) else {
            return self.thumb_optimized_general(site, frame, mem, run);
        };
        // The handler sees the Thumb code's frame (as in `thumb_optimized_hit`).
        frame.cpsr |= step::psr::T;
        match self.run_pre_only(p, frame) {
            // A nested hit: the general path counts `missed`.
            None => self.thumb_optimized_general(site, frame, mem, run),
            Some(false) => {
                frame.pc = run as u32;
                1
            }
            Some(true) => {
                select_state_from_pc(frame);
                resume_from_frame(frame)
            }
        }
    }

    /// [`Kprobes::thumb_optimized_hit`] of a direct copy, out of line: the way off its
    /// fast path (several probes, a post handler, a nested hit, which counts `missed`).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    #[inline(never)]
    fn thumb_optimized_general(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        run: usize,
    ) -> u32 {
        self.thumb_optimized_hit(site, frame, mem, run, true)
    }

    /// [`Kprobes::optimized_hit`] for a Thumb site, whose copy is entered at its Thumb
    /// entry and runs in A32 state from its `bx pc` on: the frame is the interrupted
    /// Thumb code's but for CPSR.T, which is set here (IT is clear, as it was: the
    /// registry optimizes no site that may lie in an IT block). The handlers run, then
    /// the original is stepped (`ThumbInsn`), or — on a `direct` copy, when no post
    /// handler is enabled or the step fails — run in place: the copy resumes at `run`
    /// (its own copy of the original, bit 0 set), which branches back after the probed
    /// instruction. Returns non-zero: the frame always says where to resume.
    ///
    /// # Panics
    ///
    /// As [`Kprobes::optimized_hit`]: a step-only site's original (one that reads or
    /// writes PC) whose step fails.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    pub(super) fn thumb_optimized_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        run: usize,
        direct: bool,
    ) -> u32 {
        frame.cpsr |= step::psr::T;
        // SAFETY: as in `optimized_general`: the site's kind was written before its
        // trampoline was published, and is not rewritten while any branch to it exists.
        let Some(insn) = (unsafe { ThumbInsn::of(site) }) else {
            cannot_step(frame.pc, StepError::KindMismatch);
        };
        let mut failure = Failure::new();
        // The branch carried the condition: `fast_pre_only` (Relaxed as in
        // `handle_undefined_masked`).
        let fired = match live(site.fast_pre_only.load(Ordering::Relaxed)) {
            Some(p) => self.fire_one(site, p, &insn, frame, mem, direct, &mut failure),
            None => self.fire(site, &insn, frame, mem, direct, &mut failure),
        };
        match fired {
            Fired::Done => resume_from_frame(frame),
            Fired::RunInPlace => {
                frame.pc = run as u32;
                1
            }
            // SAFETY: as in `handle_undefined`.
            Fired::StepFailed => cannot_step(frame.pc, unsafe { failure.take() }),
        }
    }
}

/// An optimized probe whose original reads or writes PC could not be stepped (see
/// [`Kprobes::optimized_hit`], "Panics"); out of line, off the hit path.
#[cold]
#[inline(never)]
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn cannot_step(pc: u32, e: StepError) -> ! {
    panic!("optimized probe at {pc:#x}: the original cannot be stepped: {e}")
}

/// The trampoline resumes from the frame (the callback returns non-zero): a step or a
/// redirect into Thumb state sets bit 0 of `pc`, which the trampoline's `ldm ... pc`
/// interworks on (ARMv7 LoadWritePC).
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(always)]
fn resume_from_frame(frame: &mut TrapFrame) -> u32 {
    if frame.cpsr & step::psr::T != 0 {
        frame.pc |= 1;
    }
    1
}

/// A handler that redirects to an address with bit 0 set asks for Thumb state, as a
/// `bx` to it would: both hit paths resume with CPSR.T set, bit 0 cleared and the IT
/// bits cleared (no IT block is in progress at a branch target), so a breakpoint probe and
/// an optimized one behave alike. A pc with bit 0 clear leaves the state as the frame has
/// it (a step already interworked through its own result).
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(super) fn select_state_from_pc(frame: &mut TrapFrame) {
    if frame.pc & 1 != 0 {
        frame.pc &= !1;
        frame.cpsr = frame.cpsr & !step::psr::IT | step::psr::T;
    }
}

/// Where a failed step leaves its error, out of the hit's return value (an enum with the
/// error inside would make every hit's result go through memory): uninitialised until
/// [`Kprobes::step`] sets it, which it does exactly when it returns [`Fired::StepFailed`]
/// — the only place that value is made. So a hit that ends in `StepFailed` may
/// [`take`](Failure::take) it, and no other may.
struct Failure(core::mem::MaybeUninit<StepError>);

impl Failure {
    #[inline(always)]
    fn new() -> Failure {
        Failure(core::mem::MaybeUninit::uninit())
    }

    #[inline(always)]
    fn set(&mut self, e: StepError) {
        self.0.write(e);
    }

    /// The error of the failed step.
    ///
    /// # Safety
    ///
    /// Only after the hit returned [`Fired::StepFailed`] (then `set` ran).
    #[inline(always)]
    unsafe fn take(self) -> StepError {
        // SAFETY: the caller's contract: `set` initialised it.
        unsafe { self.0.assume_init() }
    }
}

/// What [`Kprobes::fire`] left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fired {
    /// The frame says where to resume.
    Done,
    /// The trampoline runs the original itself (optimized direct path only).
    RunInPlace,
    /// The step failed (the error is in the caller's [`Failure`]); handlers ran. Made
    /// only by [`Kprobes::step`].
    StepFailed,
}

/// Defines the callbacks a trampoline copy calls (its address is a hole in the template),
/// in the register order the template hands them over: `r0` (named by the caller; the
/// copy's `fast` literal, or whatever the fast path left there), `r1` the frame, `r2`
/// the registry, `r3` the site. Each calls one hit method with the registry, the site,
/// the frame and `DirectMemory` (and any further arguments given).
///
/// # Safety (of every callback)
///
/// Called only by a trampoline copy that [`Kprobes::optimize_pending`] filled: `registry`
/// is the `'static` registry that made it, `site` one of its sites (for the direct
/// callbacks a direct one), and `frame` the frame the copy built on its own stack, valid
/// and unaliased for the call.
macro_rules! trampoline_callbacks {
    ($($(#[$attr:meta])* $name:ident($r0:ident) => $method:ident($($extra:expr),*);)*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// See `trampoline_callbacks!`: a trampoline copy's call, with the registry that
        /// filled it, one of its sites and the copy's own frame.
        #[cfg(target_arch = "arm")]
        #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
        pub(super) unsafe extern "C" fn $name<
            P: Platform + 'static,
            C: CacheOps + 'static,
            const N: usize,
        >(
            $r0: usize,
            frame: *mut TrapFrame,
            registry: *const Kprobes<P, C, N>,
            site: *const Site,
        ) -> u32 {
            // SAFETY: the caller's contract: both pointers come from 'static values, and
            // the frame pointer is the trampoline's own stack frame, exclusively ours for
            // the call.
            let (registry, site, frame) = unsafe { (&*registry, &*site, &mut *frame) };
            registry.$method(site, frame, &mut crate::arch::memory::DirectMemory $(, $extra)*)
        }
    )*};
}

trampoline_callbacks! {
    /// The callback of [`Variant::StepOnly`](crate::optprobe::Variant) copies.
    optimized_entry(_r0) => stepped_hit();
    /// The callback of [`Variant::Direct`](crate::optprobe::Variant) copies on a platform
    /// without a [`CpuIndexSource`](crate::CpuIndexSource): the fast path in Rust, without
    /// looking at the decode.
    direct_entry(_r0) => direct_hit();
    /// The callback of [`Variant::Direct`](crate::optprobe::Variant) copies whose
    /// trampoline runs the fast path itself (the platform has a
    /// [`CpuIndexSource`](crate::CpuIndexSource)): the copy calls it only when the fast
    /// path does not apply — no `fast_pre_only` probe, or this CPU already inside a
    /// handler (the general path then counts `missed`) — so it goes straight to the
    /// general path.
    direct_general_entry(_r0) => optimized_general(true);
    /// The callback of a Thumb site's [`Variant::StepOnly`](crate::optprobe::Variant)
    /// copy (its `fast` literal, `run`, unused).
    thumb_optimized_entry(run) => thumb_optimized_hit(run, false);
    /// The callback of a Thumb site's [`Variant::Direct`](crate::optprobe::Variant) copy:
    /// `run` (its `fast` literal) is the Thumb address of the copy's own copy of the
    /// original, where it resumes to run it in place.
    thumb_direct_entry(run) => thumb_direct_hit(run);
}

/// The trampoline's fast path calls a probe's pre handler through this: handlers are
/// Rust functions (`fn`, the Rust ABI, which assembly must not assume), this is an
/// `extern "C"` one that calls it (a tail call).
///
/// # Safety
///
/// `probe` is a `'static` [`Kprobe`] with a pre handler (a site's `fast_pre_only`
/// probe: `Site::refresh_fast` sets it only for such a probe, and probes are immutable
/// but for their atomics), `frame` a frame valid and unaliased for the call.
#[cfg(target_arch = "arm")]
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(super) unsafe extern "C" fn call_pre(probe: *const Kprobe, frame: *mut TrapFrame) {
    // SAFETY: the caller's contract: a 'static probe and an exclusive frame.
    let (probe, frame) = unsafe { (&*probe, &mut *frame) };
    match probe.pre {
        Some(pre) => pre(probe, frame),
        // SAFETY: the caller's contract: the probe has a pre handler.
        None => unsafe { core::hint::unreachable_unchecked() },
    }
}

/// How a hit steps its site's original: an A32 site's [`Plan`], or a Thumb site's
/// instruction ([`ThumbInsn`](super::thumb::ThumbInsn)). A trait, so the A32 paths
/// compile exactly as if there were no Thumb.
pub(super) trait Stepper {
    /// Whether the step may access memory (the hit records it for `fixup_fault`).
    fn may_access_memory(&self) -> bool;
    /// The `pc` of a hit at `site` that no handler redirected.
    fn site_pc(&self, site: &Site) -> usize;
    /// Steps the instruction at `addr` over `frame` and `mem`.
    fn run(
        &self,
        addr: u32,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError>;
}

impl Stepper for Plan {
    #[inline(always)]
    fn may_access_memory(&self) -> bool {
        Plan::may_access_memory(self)
    }

    #[inline(always)]
    fn site_pc(&self, site: &Site) -> usize {
        site.addr.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn run(
        &self,
        addr: u32,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        Plan::run(self, addr, frame, mem)
    }
}
