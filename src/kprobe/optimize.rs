//! Optimization: slots for trampolines, the batch that turns breakpoints into branches in
//! one rendezvous, and slot reclaim.

use super::thumb::{ThumbInsn, thumb_cond, thumb_reaches};
use super::*;
use crate::insn::{Cond, ThumbBranch};
use crate::patch::{merged_halfword, with_halfword};

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// The slot allocator, made on first use (registry lock held).
    pub(super) fn allocator<'g>(
        &self,
        slots: &'g mut Slots,
        template: &Template,
    ) -> Result<&'g mut SlotAllocator<MAX_SLOTS>, SlotError> {
        if let Some(e) = slots.error {
            return Err(e);
        }
        if !slots.made {
            let size = fault::slot_bytes(template);
            let region = self.platform.slot_region();
            // In place: the allocator never passes through this stack frame. A region
            // another registry of this machine claimed is refused (and never used).
            let made = slots.alloc.init(region.clone(), size).and_then(|()| {
                self.rendezvous
                    .slot_claims()
                    .claim(region)
                    .map_err(SlotError::Claimed)
            });
            if let Err(e) = made {
                slots.error = Some(e);
                return Err(e);
            }
            slots.made = true;
        }
        Ok(&mut slots.alloc)
    }

    /// Runs a rendezvous and frees every dirty slot released before it in which it saw
    /// no CPU (registry lock held); a site retired while slots named it is freed with
    /// the last of them. Slots a CPU may still be in stay dirty for a later reclaim.
    pub(super) fn reclaim_locked(&self, g: &mut Guard<'_, N>) -> Result<usize, KprobeError> {
        let Locked {
            opt,
            slots,
            first_free_site,
            sites_in_use,
            pins,
            ..
        } = &mut **g;
        let Some(alloc) = slots.get() else {
            return Ok(0);
        };
        if alloc.counts().dirty == 0 {
            return Ok(0);
        }
        let ticket = alloc.begin_quiescence();
        let me = self.platform.cpu_id();
        let seen = self
            .rendezvous
            .run_observed(self.platform, RunOn::OneCpu(me), &|_| {})
            .map_err(KprobeError::Rendezvous)?;
        // The ticket is the newest (the lock serializes begin and complete).
        let freed = alloc.complete_quiescence_where(
            ticket,
            |bytes| seen.may_be_in(bytes),
            |_, tag| {
                let Some(index) = (tag as usize).checked_sub(1) else {
                    return; // a lent slot
                };
                pins[index] -= 1;
                if pins[index] == 0 && opt[index] == Opt::Retired {
                    opt[index] = Opt::Candidate;
                    Self::free_site(&self.sites, index, first_free_site, sites_in_use);
                }
            },
        );
        Ok(freed.unwrap_or(0))
    }

    /// Optimizes every candidate: for each armed breakpoint probe not yet optimized,
    /// a slot within branch range gets a filled trampoline copy, and then ONE rendezvous
    /// rewrites all their breakpoints into `b<cond> slot` (the original's condition, so
    /// a failing condition skips the instruction exactly as natively). A candidate that
    /// cannot be optimized stays a working breakpoint probe and
    /// [`Kprobes::list`] says why. Call it from thread context — after a batch of
    /// registrations, from a timer, whenever suits the kernel.
    ///
    /// On error (the rendezvous was refused) nothing changed: text, slots, listing.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when writing a trampoline or the
    /// rendezvous that installs the branches was refused. An unusable slot region is
    /// not an error: the candidates stay breakpoints and the listing says why.
    pub fn optimize_pending(&self) -> Result<OptimizeReport, KprobeError> {
        let mut g = self.lock()?;
        let Locked {
            opt,
            slots,
            sites_in_use,
            ..
        } = &mut *g;
        let template = optprobe::template();
        let mut report = OptimizeReport::default();
        let is_candidate = |index: usize, opt: &[Opt; N]| {
            let site = &self.sites[index];
            site.addr.load(Ordering::Relaxed) != 0
                && site.armed.load(Ordering::Relaxed)
                && matches!(
                    opt[index],
                    Opt::Candidate | Opt::Failed(NotOptimized::NoSlot)
                )
        };
        let alloc = match self.allocator(slots, &template) {
            Ok(a) => a,
            Err(e) => {
                for index in 0..*sites_in_use {
                    if is_candidate(index, opt) {
                        opt[index] = Opt::Failed(NotOptimized::SlotRegion(e));
                        report.not_optimized += 1;
                    }
                }
                return Ok(report);
            }
        };
        let patcher = self.patcher();
        let cpu = self.cpu_index_source();
        let layout = template.layout();
        let mut words = [0u32; MAX_TEMPLATE_WORDS];
        let words = &mut words[..template.bytes() / 4];
        let mut head = 0u32;
        for index in 0..*sites_in_use {
            if !is_candidate(index, opt) {
                continue;
            }
            let site = &self.sites[index];
            let addr = site.addr.load(Ordering::Relaxed);
            let original = site.original.load(Ordering::Relaxed);
            let thumb = addr & 1 == 1;
            let variant = if thumb {
                // SAFETY: registry lock held: the only writer of the cell (a registration)
                // is not running, and it wrote the cell before publishing the site.
                unsafe { ThumbInsn::of(site) }.map_or(Variant::StepOnly, |i| i.variant())
            } else {
                optprobe::variant_of(Insn(original))
            };
            let direct = variant == Variant::Direct;
            // Where the probe's branch goes and where it comes back to, from a slot.
            let (from, to) = ((addr & !1) as u32, (addr & !1) as u32 + 4);
            let reaches = |s: Slot| {
                let slot = s.addr() as u32;
                if thumb {
                    thumb_reaches(thumb_cond(original), from, slot + template.thumb_entry())
                        && (!direct || thumb_reaches(Cond::Al, slot + layout.back, to))
                } else {
                    BranchKind::B
                        .reach(from, slot + template.arm_entry())
                        .is_ok()
                        && BranchKind::B.reach(slot + layout.back, to).is_ok()
                }
            };
            let slot = match alloc.allocate_where(|s| u32::try_from(s.addr()).is_ok() && reaches(s))
            {
                Ok(s) => s,
                Err(e) => {
                    let why = if e == SlotError::Exhausted {
                        NotOptimized::NoSlot
                    } else {
                        NotOptimized::OutOfRange
                    };
                    opt[index] = Opt::Failed(why);
                    report.not_optimized += 1;
                    continue;
                }
            };
            // Written before the branch is published; read by a hit through it only.
            site.direct.store(direct, Ordering::Relaxed);
            // Only an A32 direct slot runs the fast path in its trampoline (it ends in
            // the original run in place, in A32 state).
            let cpu = if variant == Variant::Direct && !thumb {
                cpu
            } else {
                CpuIndexSource::None
            };
            let slot_addr = slot.addr() as u32;
            let fill = Fill {
                slot: slot_addr,
                addr: from,
                insn: match (variant, thumb) {
                    // A Thumb original in memory order: hw1 in the low half.
                    (Variant::Direct, true) => original.rotate_left(16),
                    (Variant::Direct, false) => original,
                    (Variant::StepOnly, _) => NEVER_RUN,
                },
                registry: self as *const Self as usize as u32,
                site: site as *const Site as usize as u32,
                callback: Self::callback_address(variant, cpu != CpuIndexSource::None, thumb)
                    as u32,
                running: self.running.as_ptr() as usize as u32,
                call_pre: Self::call_pre_address() as u32,
                resume: optprobe::resume_address() as u32,
                // A Thumb copy's callback gets its copy of the original (Thumb) instead.
                fast: if thumb {
                    (slot_addr + layout.insn) | 1
                } else {
                    site.fast_pre_only.load(Ordering::Relaxed) as usize as u32
                },
                cpu,
                thumb,
            };
            let encoded = template.fill(fill, words).and_then(|()| {
                if thumb {
                    let [hw1, hw2] = ThumbBranch::replacing(
                        thumb_cond(original),
                        from,
                        slot_addr + template.thumb_entry(),
                    )?;
                    Ok(u32::from(hw1) << 16 | u32::from(hw2))
                } else {
                    Branch::replacing(Insn(original), from, slot_addr + template.arm_entry())
                        .map(|b| b.word())
                }
            });
            let Ok(branch) = encoded else {
                // The slot was chosen with the encoder's own reach rule both ways, so this
                // is not expected; if it happens the slot was never used and the probe
                // stays a breakpoint.
                let _ = alloc.release_unused(slot);
                opt[index] = Opt::Failed(NotOptimized::OutOfRange);
                report.not_optimized += 1;
                continue;
            };
            if let Err(e) = patcher.write_unpublished(slot.addr(), words) {
                let _ = alloc.release_unused(slot);
                self.abandon_batch(opt, alloc, head);
                return Err(e.into());
            }
            if cpu != CpuIndexSource::None {
                // From now on `refresh_fast` keeps the slot's `fast` literal current.
                site.fast_slot
                    .store(slot.addr() + layout.fast as usize, Ordering::Relaxed);
            }
            site.batch_word.store(branch, Ordering::Relaxed);
            site.batch_next.store(head, Ordering::Relaxed);
            head = index as u32 + 1;
            opt[index] = Opt::Optimized(slot, variant);
            report.optimized += 1;
        }
        if head == 0 {
            return Ok(report);
        }
        let published = patcher.patch_distinct(&Batch {
            registry: self,
            head,
        });
        if let Err(e) = published {
            self.abandon_batch(opt, alloc, head);
            return Err(e.into());
        }
        self.end_batch(head);
        report.rendezvous = 1;
        Ok(report)
    }

    /// After a batch: its sites' `batch_word` back to 0, which outside a batch every
    /// site's is (`Batch` reads a non-zero one as "in this batch").
    fn end_batch(&self, head: u32) {
        let mut i = head;
        while i != 0 {
            let site = &self.sites[i as usize - 1];
            site.batch_word.store(0, Ordering::Relaxed);
            i = site.batch_next.load(Ordering::Relaxed);
        }
    }

    /// Undoes a batch that was never published: its sites are candidates again and their
    /// slots free.
    pub(super) fn abandon_batch(
        &self,
        opt: &mut [Opt; N],
        alloc: &mut SlotAllocator<MAX_SLOTS>,
        head: u32,
    ) {
        let mut i = head;
        while i != 0 {
            let index = i as usize - 1;
            if let Opt::Optimized(slot, _) = opt[index] {
                let _ = alloc.release_unused(slot);
            }
            opt[index] = Opt::Candidate;
            self.sites[index].fast_slot.store(0, Ordering::Relaxed);
            i = self.sites[index].batch_next.load(Ordering::Relaxed);
        }
        self.end_batch(head);
    }

    /// The platform's CPU-index register, when it holds this CPU's index here (checked
    /// once per batch on the optimizing CPU; a debug build panics on a broken promise,
    /// a release build runs every hit through the crate instead).
    pub(super) fn cpu_index_source(&self) -> CpuIndexSource {
        let source = self.platform.cpu_index_register();
        let irq = self.platform.mask_interrupts();
        let (read, me) = (source.read(), self.platform.cpu_id() % MAX_CPUS);
        self.platform.restore_interrupts(irq);
        match read {
            Some(index) if index != me => {
                debug_assert!(
                    false,
                    "Platform::cpu_index_register: {source:?} gives {index}, cpu_id() {me}"
                );
                CpuIndexSource::None
            }
            _ => source,
        }
    }

    /// The address a trampoline of `variant` calls: [`optimized_entry`],
    /// [`direct_entry`] or, when the trampoline runs the fast path itself (`fast`),
    /// [`direct_general_entry`] for this registry type; for a `thumb` site's copy
    /// [`thumb_optimized_entry`] or [`thumb_direct_entry`].
    pub(super) fn callback_address(variant: Variant, fast: bool, thumb: bool) -> usize {
        #[cfg(target_arch = "arm")]
        {
            type Callback<P, C, const N: usize> = unsafe extern "C" fn(
                usize,
                *mut TrapFrame,
                *const Kprobes<P, C, N>,
                *const Site,
            ) -> u32;
            match (variant, fast, thumb) {
                (Variant::Direct, _, true) => {
                    thumb_direct_entry::<P, C, N> as Callback<P, C, N> as usize
                }
                (Variant::StepOnly, _, true) => {
                    thumb_optimized_entry::<P, C, N> as Callback<P, C, N> as usize
                }
                (Variant::Direct, false, false) => {
                    direct_entry::<P, C, N> as Callback<P, C, N> as usize
                }
                (Variant::Direct, true, false) => {
                    direct_general_entry::<P, C, N> as Callback<P, C, N> as usize
                }
                (Variant::StepOnly, _, false) => {
                    optimized_entry::<P, C, N> as Callback<P, C, N> as usize
                }
            }
        }
        #[cfg(not(target_arch = "arm"))]
        {
            // Host stand-ins: distinct, so a fixup test tells them apart.
            match (variant, fast, thumb) {
                (Variant::Direct, _, true) => 5,
                (Variant::StepOnly, _, true) => 6,
                (Variant::Direct, false, false) => 1,
                (Variant::Direct, true, false) => 2,
                (Variant::StepOnly, _, false) => 0,
            }
        }
    }

    /// The address a trampoline's fast path calls pre handlers through ([`call_pre`]).
    pub(super) fn call_pre_address() -> usize {
        #[cfg(target_arch = "arm")]
        {
            call_pre as unsafe extern "C" fn(_, _) as usize
        }
        #[cfg(not(target_arch = "arm"))]
        {
            3
        }
    }

    /// Lends an instruction slot (e.g. for an emulation copy, see
    /// `arch::emulate`) from the same allocator the trampolines use. It is the
    /// caller's until [`Kprobes::release_slot`].
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Slot`] with [`SlotError::Exhausted`] when every slot is
    /// in use or dirty (or another slot error when the region is unusable).
    pub fn allocate_slot(&self) -> Result<Slot, KprobeError> {
        let mut g = self.lock()?;
        let slots = &mut g.slots;
        let slot = self.allocator(slots, &optprobe::template())?.allocate()?;
        slots.lent[slot.index() / 32] |= 1 << (slot.index() % 32);
        Ok(slot)
    }

    /// Gives back a slot [`Kprobes::allocate_slot`] lent. It is dirty until a later
    /// [`Kprobes::reclaim_slots`] (or any unoptimize) sees no CPU in it. Slots the
    /// registry uses itself cannot be released here.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Slot`] with [`SlotError::NotInUse`] when `slot` was not
    /// lent by [`Kprobes::allocate_slot`] or was already given back.
    pub fn release_slot(&self, slot: Slot) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        let slots = &mut g.slots;
        let (word, bit) = (slot.index() / 32, 1u32 << (slot.index() % 32));
        let lent = slots.lent.get(word).is_some_and(|w| w & bit != 0);
        let alloc = slots.get().filter(|_| lent);
        alloc.ok_or(SlotError::NotInUse(slot))?.release(slot)?;
        slots.lent[word] &= !bit;
        Ok(())
    }

    /// Runs a rendezvous and frees every dirty slot no CPU was seen in during it (see
    /// [`crate::optprobe`], "When a slot may be reused"); a slot some CPU may still be
    /// in stays dirty for a later call. Returns how many were freed.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] or [`KprobeError::Rendezvous`] when the
    /// rendezvous was refused (nothing is freed then).
    pub fn reclaim_slots(&self) -> Result<usize, KprobeError> {
        let mut g = self.lock()?;
        self.reclaim_locked(&mut g)
    }

    /// How many slots are free, in use and dirty (`None` before the first use).
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]).
    pub fn slot_counts(&self) -> Result<Option<SlotCounts>, KprobeError> {
        Ok(self.lock()?.slots.get().map(|a| a.counts()))
    }
}

/// The branch words of one optimize batch: a list threaded through the sites.
struct Batch<'a, P: Platform + 'static, C: CacheOps + 'static, const N: usize> {
    registry: &'a Kprobes<P, C, N>,
    head: u32,
}

impl<P: Platform, C: CacheOps, const N: usize> Batch<'_, P, C, N> {
    /// The new halfword of the Thumb site at `site_at` when that site is in this batch
    /// (its `batch_word` non-zero): its first (`second` false) or second halfword.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn batch_half(&self, site_at: usize, second: bool) -> Option<u16> {
        let (_, site) = self.registry.find(site_at | 1)?;
        let word = site.batch_word.load(Ordering::Relaxed);
        (word != 0).then_some(if second {
            word as u16
        } else {
            (word >> 16) as u16
        })
    }
}

impl<P: Platform, C: CacheOps, const N: usize> WordSource for Batch<'_, P, C, N> {
    /// An A32 site's branch word; a Thumb site's `b.w` (`hw1 << 16 | hw2`) as final
    /// words only (see `patch::Halfwords` for why): at a word address one word, else
    /// two, each holding one of its halfwords and, in the other half, what stays there
    /// or — when a neighbour 4 bytes away is in this batch too — the neighbour's new
    /// halfword (that neighbour stores the same final word).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn each(&self, f: &mut dyn FnMut(usize, u32)) {
        let mut i = self.head;
        while i != 0 {
            let site = &self.registry.sites[i as usize - 1];
            let (addr, word) = (
                site.addr.load(Ordering::Relaxed),
                site.batch_word.load(Ordering::Relaxed),
            );
            let at = addr & !1;
            let (hw1, hw2) = ((word >> 16) as u16, word as u16);
            if addr & 1 == 0 {
                f(addr, word);
            } else if at.is_multiple_of(4) {
                f(at, u32::from(hw1) | u32::from(hw2) << 16);
            } else {
                let platform = self.registry.platform;
                let (w0, mut first) = merged_halfword(platform, at, hw1);
                if let Some(h) = self.batch_half(at.wrapping_sub(4), true) {
                    first = with_halfword(first, w0, h);
                }
                f(w0, first);
                let (w1, mut second) = merged_halfword(platform, at + 2, hw2);
                if let Some(h) = self.batch_half(at + 4, false) {
                    second = with_halfword(second, at + 4, h);
                }
                f(w1, second);
            }
            i = site.batch_next.load(Ordering::Relaxed);
        }
    }
}
