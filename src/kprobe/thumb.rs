//! Thumb probes: what a probe on a Thumb instruction (an address with bit 0 set) needs
//! beyond the A32 path — its halfwords, its size, its decode and checks, the breakpoint
//! halfwords of its size, and the trap taken in Thumb state.
//!
//! A Thumb site keeps the registered address, bit 0 included, so a lookup by the trapped
//! pc (`pc | 1` in Thumb state) can never find an A32 site at the same address, and
//! `Kprobe::addr` gives back what the caller registered. Its `original` is the 16-bit
//! instruction, or `hw1 << 16 | hw2` for a 32-bit one (hw1, the first in memory, has a
//! 0b111xx prefix, so the value is above 0xffff exactly when the instruction is 32-bit).
//!
//! A Thumb site is decoded outside an IT block at registration (where it is inside one
//! cannot be known from the text alone); the step decodes it again at the IT position the
//! trapped CPSR gives, and refuses what is UNPREDICTABLE there.
//!
//! A 32-bit Thumb site outside any IT block ([`Kprobes::maybe_in_it_block`] decides
//! conservatively) is a candidate for optimization: `b.w` to the slot's Thumb entry, or
//! `b<c>.w` over a conditional branch, keeping its condition. Its copy steps the
//! original, or — when it does not touch PC ([`decode::uses_pc_t32`]) — runs a copy of
//! it in the slot followed by `b.w` back ([`Kprobes::thumb_optimized_hit`]). A 16-bit
//! site stays a breakpoint ([`NotOptimized::ThumbNarrow`]).

use super::*;
use crate::decode::{ItPosition, T16Decoded, T16Kind, T32Decoded, T32Kind, decode_t16, decode_t32};
use crate::insn::{Cond, ThumbBranch, ThumbBreakpoint};
use crate::step::{it_advance, it_position, it_state, with_it_state};

/// The halfwords `set_armed` writes at the Thumb site `addr` whose original is
/// `original`: the breakpoint of the original's size (`arm`) or the original, and how
/// many there are.
pub(super) fn armed_halfwords(addr: usize, original: u32, arm: bool) -> ([(usize, u16); 2], usize) {
    let at = addr & !1;
    if original > 0xffff {
        let (hw1, hw2) = ((original >> 16) as u16, original as u16);
        let [b1, b2] = ThumbBreakpoint::for_original32(hw1, hw2).unwrap_or([hw1, hw2]);
        let (h1, h2) = if arm { (b1, b2) } else { (hw1, hw2) };
        ([(at, h1), (at + 2, h2)], 2)
    } else {
        let hw = original as u16;
        let h = if arm {
            ThumbBreakpoint::for_original16(hw).unwrap_or(hw)
        } else {
            hw
        };
        ([(at, h), (0, 0)], 1)
    }
}

/// A Thumb site's instruction class, as decoded outside an IT block at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ThumbKind {
    /// A 16-bit instruction.
    Narrow(T16Kind),
    /// A 32-bit instruction.
    Wide(T32Kind),
}

/// A Thumb site's original instruction as the hit steps it: outside an IT block with
/// the registration's decode, inside one decoded again at the position the trapped CPSR
/// gives (what is UNPREDICTABLE there is refused); then simulated, ITSTATE followed.
pub(super) struct ThumbInsn {
    original: u32,
    kind: ThumbKind,
}

impl hit::Stepper for ThumbInsn {
    #[inline(always)]
    fn may_access_memory(&self) -> bool {
        true
    }

    #[inline(always)]
    fn site_pc(&self, site: &Site) -> usize {
        site.addr.load(Ordering::Relaxed) & !1
    }

    #[inline(always)]
    fn run(
        &self,
        addr: u32,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let original = self.original;
        match self.kind {
            ThumbKind::Wide(kind) => step::step_t32_decoded(
                kind,
                (original >> 16) as u16,
                original as u16,
                addr,
                frame,
                mem,
            ),
            ThumbKind::Narrow(kind) => {
                step::step_t16_decoded(kind, original as u16, addr, frame, mem)
            }
        }
    }
}

impl ThumbInsn {
    /// How an optimized copy runs it: in place when it is a 32-bit instruction that does
    /// not touch PC ([`decode::uses_pc_t32`]), else stepped.
    pub(super) fn variant(&self) -> Variant {
        match self.kind {
            ThumbKind::Wide(k)
                if !decode::uses_pc_t32(k, (self.original >> 16) as u16, self.original as u16) =>
            {
                Variant::Direct
            }
            _ => Variant::StepOnly,
        }
    }

    /// A conditional branch's own condition (`B<c>` T1 or T3, which only exist outside
    /// IT blocks), from the registration's decode; `None` for every other instruction.
    #[inline(always)]
    fn own_condition(&self) -> Option<Cond> {
        match self.kind {
            ThumbKind::Narrow(T16Kind::ConditionalBranch) => {
                Some(Cond::from_bits(self.original >> 8))
            }
            ThumbKind::Wide(T32Kind::ConditionalBranch) => {
                Some(Cond::from_bits(self.original >> 22))
            }
            _ => None,
        }
    }

    /// The instruction of the Thumb site `site` (`None` for an A32 site, or a Thumb site
    /// not yet written).
    ///
    /// # Safety
    ///
    /// `site.thumb` is not being written: the site is published (by its table entry or
    /// the rendezvous that put its breakpoint or branch into text), and not rewritten
    /// while the breakpoint or branch is there.
    #[inline(always)]
    pub(super) unsafe fn of(site: &Site) -> Option<ThumbInsn> {
        // SAFETY: the caller's contract: no write to the cell is in progress.
        let kind = unsafe { *site.thumb.get() }?;
        Some(ThumbInsn {
            original: site.original.load(Ordering::Relaxed),
            kind,
        })
    }
}

/// The condition the branch over the 32-bit Thumb site `original` (outside an IT block)
/// keeps: a conditional branch's own (`b<c>.w`, T3), else AL.
pub(super) fn thumb_cond(original: u32) -> Cond {
    ThumbBranch::own_condition((original >> 16) as u16, Some(original as u16)).unwrap_or(Cond::Al)
}

/// Whether the branch [`ThumbBranch::preserving`] gives for `cond` reaches `to` from
/// `from`.
pub(super) fn thumb_reaches(cond: Cond, from: u32, to: u32) -> bool {
    ThumbBranch::preserving(cond, to)
        .kind()
        .reach(from, to)
        .is_ok()
}

/// The byte length of the Thumb instruction a site's `original` holds.
#[inline(always)]
pub(super) fn thumb_len(original: u32) -> u32 {
    if original > 0xffff { 4 } else { 2 }
}

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// That the halfword at `at` is kernel text outside every never-probe range, for the
    /// Thumb probe at `addr` (its first halfword, or a 32-bit instruction's second).
    #[inline(never)]
    pub(super) fn check_thumb_text(&self, addr: usize, at: usize) -> Result<(), KprobeError> {
        self.check_span(addr, at, 2)
    }

    /// Refuses a new site at `addr` whose `len` bytes from `at` share a byte with a
    /// registered site (registry lock held): an A32 word, or a Thumb instruction of
    /// either size, can only overlap one of these neighbours.
    pub(super) fn check_no_overlap(
        &self,
        addr: usize,
        at: usize,
        len: usize,
    ) -> Result<(), KprobeError> {
        let end = at + len;
        let overlaps = |probed: usize| {
            self.find(probed).is_some_and(|(_, site)| {
                let start = probed & !1;
                let size = if probed & 1 == 1 {
                    thumb_len(site.original.load(Ordering::Relaxed)) as usize
                } else {
                    4
                };
                start < end && at < start + size && probed != addr
            })
        };
        // A32 words holding the new bytes; Thumb instructions starting in them or in
        // the halfword before (a 32-bit one reaches 2 bytes further).
        let words = [at & !3, (end - 1) & !3];
        let halves = [at.wrapping_sub(2), at, at + 2];
        words
            .into_iter()
            .chain(halves.into_iter().map(|h| h | 1))
            .find(|&p| overlaps(p))
            .map_or(Ok(()), |probed| Err(KprobeError::Overlaps { addr, probed }))
    }

    /// The halfword at executable address `at` (even, inside kernel text).
    pub(super) fn read_half(&self, at: usize) -> u16 {
        (self.read_text(at & !3) >> ((at & 2) * 8)) as u16
    }

    /// [`Kprobes::register`] at a Thumb address (bit 0 set).
    #[inline(never)]
    pub(super) fn register_thumb(
        &self,
        probe: &'static Kprobe,
        addr: usize,
    ) -> Result<(), KprobeError> {
        self.check_thumb_text(addr, addr & !1)?;
        self.register_checked(probe, addr, |g| self.new_thumb_site(g, probe, addr))
    }

    /// A new site at the Thumb instruction at `addr` (registry lock held), holding
    /// `probe`: its halfwords, decoded outside an IT block, a breakpoint of another
    /// registry refused, its stack use checked.
    fn new_thumb_site(
        &self,
        g: &mut Guard<'_, N>,
        probe: &'static Kprobe,
        addr: usize,
    ) -> Result<(), KprobeError> {
        let at = addr & !1;
        let hw1 = self.read_half(at);
        // Its size, from hw1's prefix alone: what it shares bytes with comes first.
        let len = if ThumbBreakpoint::starts_32_bit_instruction(hw1) {
            self.check_thumb_text(addr, at + 2)?;
            4
        } else {
            2
        };
        self.check_no_overlap(addr, at, len)?;
        let (original, kind, used) = match decode_t16(hw1, ItPosition::Outside) {
            T16Decoded::FirstHalfOfT32 => {
                let hw2 = self.read_half(at + 2);
                let word = u32::from(hw1) << 16 | u32::from(hw2);
                if ThumbBreakpoint::is_breakpoint32(hw1, hw2)
                    || self.is_foreign_branch(at, hw1, hw2)
                {
                    return Err(KprobeError::ForeignProbe { addr, word });
                }
                match decode_t32(hw1, hw2, ItPosition::Outside) {
                    T32Decoded::Rejected(reason) => {
                        return Err(KprobeError::Rejected { addr, word, reason });
                    }
                    T32Decoded::Simulate(kind) => (
                        word,
                        ThumbKind::Wide(kind),
                        decode::stack_use_t32(kind, hw1, hw2),
                    ),
                }
            }
            _ if ThumbBreakpoint::is_breakpoint16(hw1) => {
                return Err(KprobeError::ForeignProbe {
                    addr,
                    word: u32::from(hw1),
                });
            }
            T16Decoded::Rejected(reason) => {
                return Err(KprobeError::Rejected {
                    addr,
                    word: u32::from(hw1),
                    reason,
                });
            }
            T16Decoded::Simulate(kind) => (
                u32::from(hw1),
                ThumbKind::Narrow(kind),
                decode::stack_use_t16(kind, hw1),
            ),
        };
        registry::check_stack_use(addr, used)?;
        g.any_thumb = true;
        let (index, site) = self.claim_site(g)?;
        site.addr.store(addr, Ordering::Relaxed);
        site.original.store(original, Ordering::Relaxed);
        // SAFETY: the site is free and unpublished (see the Sync impl). A Thumb hit
        // steps `original` (`ThumbInsn`), never the plan.
        unsafe {
            *site.plan.get() = Plan::UNSET;
            *site.thumb.get() = Some(kind);
        }
        g.opt[index] = if len == 2 {
            Opt::Failed(NotOptimized::ThumbNarrow)
        } else if self.maybe_in_it_block(at) {
            Opt::Failed(NotOptimized::MaybeInItBlock)
        } else {
            Opt::Candidate
        };
        self.publish_site(g, probe, site)
    }

    /// Whether `hw1:hw2` at `at` is a `b.w`/`b<c>.w` into a slot region (this
    /// registry's, or one another registry of this machine claimed): another registry's
    /// optimized Thumb probe.
    fn is_foreign_branch(&self, at: usize, hw1: u16, hw2: u16) -> bool {
        ThumbBranch::decode(hw1, hw2, at as u32).is_some_and(|b| {
            let target = b.target() as usize;
            self.platform.slot_region().contains(&target)
                || self.rendezvous.slot_claims().contains(target)
        })
    }

    /// Whether the Thumb instruction at `at` may lie in an IT block: one of the seven
    /// halfwords before it (inside kernel text) has the form of an IT instruction
    /// (`0xbfXY`, mask `Y` not zero). An IT block covers at most four instructions of at
    /// most 4 bytes after the IT, so an IT whose block reaches `at` starts 2 to 14 bytes
    /// before it. Conservative: the halfword may be data or the second half of another
    /// instruction. A real IT is never hidden by a probe (probing one is refused).
    fn maybe_in_it_block(&self, at: usize) -> bool {
        let text = self.platform.kernel_text();
        (1..=7)
            .map(|i| at.wrapping_sub(2 * i))
            .take_while(|&h| h >= text.start && h < at)
            .any(|h| {
                let hw = self.read_half(h);
                hw & 0xff00 == 0xbf00 && hw & 0xf != 0
            })
    }

    /// `set_armed` for a Thumb site: its breakpoint halfwords or its original ones.
    #[inline(never)]
    pub(super) fn set_thumb_armed(
        &self,
        addr: usize,
        site: &Site,
        arm: bool,
    ) -> Result<(), KprobeError> {
        let original = site.original.load(Ordering::Relaxed);
        let (halfwords, n) = armed_halfwords(addr, original, arm);
        self.patcher().patch_halfwords(&halfwords[..n])?;
        site.armed.store(arm, Ordering::Relaxed);
        Ok(())
    }

    /// The trap path in Thumb state (`frame.pc` is the trapped halfword: the entry
    /// subtracts 2 from the exception's lr for either size). A breakpoint in an IT block
    /// whose condition fails may trap or not (IMPLEMENTATION DEFINED): when it traps, the
    /// original is skipped as the CPU would — pc past it, ITSTATE advanced — and no
    /// handler runs. So is a conditional branch whose own condition fails: handlers run
    /// exactly when the instruction's condition passes, as for an A32 probe.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub(super) fn thumb_trap(
        &self,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        let pc = frame.pc as usize;
        let Some(site) = self.find_trapped(pc | 1) else {
            return self.no_thumb_site(pc);
        };
        // SAFETY: the site (its kind) was written before the rendezvous that put the
        // breakpoint this CPU trapped on into text (see `find_trapped`), and is not
        // rewritten while the breakpoint is there.
        let Some(insn) = (unsafe { ThumbInsn::of(site) }) else {
            return Trap::NotOurs;
        };
        // The condition the instruction runs under: ITSTATE's in a block, a conditional
        // branch's own outside one (as an optimized site's `b<c>.w` keeps it).
        let it = it_state(frame.cpsr);
        let cond = if it_position(it) != ItPosition::Outside {
            Some(Cond::from_bits(u32::from(it >> 4)))
        } else {
            insn.own_condition()
        };
        if cond.is_some_and(|c| !c.passes(frame.cpsr)) {
            frame.pc = frame.pc.wrapping_add(thumb_len(insn.original));
            frame.cpsr = with_it_state(frame.cpsr, it_advance(it));
            return Trap::Handled;
        }
        // The site's one enabled probe with only a pre handler takes the fast path
        // (`fast_pre_only` ignores the condition, which was tested just above; Relaxed
        // as `handle_undefined_masked`'s load of `fast`).
        if let Some(p) = live(site.fast_pre_only.load(Ordering::Relaxed)) {
            return self.trap_fire_one(site, p, &insn, frame, mem);
        }
        self.trap_fire(site, &insn, frame, mem)
    }

    /// A Thumb-state trap at `pc` where no site is: retried when the halfword there is no
    /// longer a breakpoint (another CPU has just restored the original), not ours when it
    /// is one (ours without a site, or another registry's) or any other UNDEFINED
    /// instruction.
    #[cold]
    #[inline(never)]
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn no_thumb_site(&self, pc: usize) -> Trap {
        let text = self.platform.kernel_text();
        if pc & 1 != 0 || pc < text.start || pc.saturating_add(2) > text.end {
            return Trap::NotOurs;
        }
        let hw1 = self.read_half(pc);
        let still_undefined = match decode_t16(hw1, ItPosition::Outside) {
            T16Decoded::FirstHalfOfT32 => {
                if pc + 4 > text.end {
                    return Trap::NotOurs;
                }
                let hw2 = self.read_half(pc + 2);
                ThumbBreakpoint::is_breakpoint32(hw1, hw2)
                    || decode_t32(hw1, hw2, ItPosition::Outside)
                        == T32Decoded::Rejected(RejectReason::Undefined)
            }
            decoded => {
                ThumbBreakpoint::is_breakpoint16(hw1)
                    || decoded == T16Decoded::Rejected(RejectReason::Undefined)
            }
        };
        if still_undefined {
            Trap::NotOurs
        } else {
            Trap::Retry
        }
    }
}
