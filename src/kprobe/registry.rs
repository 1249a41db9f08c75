//! The registry's public API: register, unregister, enable, disable, list — every text
//! change in a rendezvous, every call under the registry lock.

use super::*;

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// An empty registry patching through `rendezvous` on `platform`.
    ///
    /// `N` is the size of the lookup table (the registry holds up to `N / 2` probed
    /// addresses). Two entries is the least:
    ///
    /// ```
    /// # use armv7_kprobes::{cache::CacheOps, kprobe::Kprobes, stop_machine::Rendezvous};
    /// # use armv7_kprobes::{CpuSet, InterruptState, Platform};
    /// # struct P;
    /// # impl Platform for P {
    /// #     fn cpu_id(&self) -> usize { 0 }
    /// #     fn online_cpus(&self) -> CpuSet { CpuSet::single(0) }
    /// #     fn send_ipi(&self, _: CpuSet) {}
    /// #     fn mask_interrupts(&self) -> InterruptState { InterruptState(0) }
    /// #     fn restore_interrupts(&self, _: InterruptState) {}
    /// #     fn interrupts_masked(&self) -> bool { false }
    /// #     fn kernel_text(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn never_probe(&self) -> &[core::ops::Range<usize>] { &[] }
    /// #     fn slot_region(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn text_alias(&self, a: usize) -> *mut u32 { a as *mut u32 }
    /// # }
    /// # struct C;
    /// # impl CacheOps for C {
    /// #     fn maintenance_is_broadcast(&self) -> bool { true }
    /// #     unsafe fn store_text_word(&self, _: usize, _: *mut u32, _: u32) {}
    /// #     fn clean_dcache_line_to_pou(&self, _: usize) {}
    /// #     fn dsb_ish(&self) {}
    /// #     fn invalidate_icache_line_to_pou(&self, _: usize) {}
    /// #     fn invalidate_icache_all_local(&self) {}
    /// #     fn invalidate_branch_predictors_inner_shareable(&self) {}
    /// #     fn invalidate_branch_predictors_local(&self) {}
    /// #     fn isb(&self) {}
    /// # }
    /// # static PLATFORM: P = P;
    /// # static RENDEZVOUS: Rendezvous<C> = Rendezvous::new(C);
    /// static KPROBES: Kprobes<P, C, 2> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
    /// ```
    ///
    /// and `N < 2` does not compile:
    ///
    /// ```compile_fail
    /// # use armv7_kprobes::{cache::CacheOps, kprobe::Kprobes, stop_machine::Rendezvous};
    /// # use armv7_kprobes::{CpuSet, InterruptState, Platform};
    /// # struct P;
    /// # impl Platform for P {
    /// #     fn cpu_id(&self) -> usize { 0 }
    /// #     fn online_cpus(&self) -> CpuSet { CpuSet::single(0) }
    /// #     fn send_ipi(&self, _: CpuSet) {}
    /// #     fn mask_interrupts(&self) -> InterruptState { InterruptState(0) }
    /// #     fn restore_interrupts(&self, _: InterruptState) {}
    /// #     fn interrupts_masked(&self) -> bool { false }
    /// #     fn kernel_text(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn never_probe(&self) -> &[core::ops::Range<usize>] { &[] }
    /// #     fn slot_region(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn text_alias(&self, a: usize) -> *mut u32 { a as *mut u32 }
    /// # }
    /// # struct C;
    /// # impl CacheOps for C {
    /// #     fn maintenance_is_broadcast(&self) -> bool { true }
    /// #     unsafe fn store_text_word(&self, _: usize, _: *mut u32, _: u32) {}
    /// #     fn clean_dcache_line_to_pou(&self, _: usize) {}
    /// #     fn dsb_ish(&self) {}
    /// #     fn invalidate_icache_line_to_pou(&self, _: usize) {}
    /// #     fn invalidate_icache_all_local(&self) {}
    /// #     fn invalidate_branch_predictors_inner_shareable(&self) {}
    /// #     fn invalidate_branch_predictors_local(&self) {}
    /// #     fn isb(&self) {}
    /// # }
    /// # static PLATFORM: P = P;
    /// # static RENDEZVOUS: Rendezvous<C> = Rendezvous::new(C);
    /// static KPROBES: Kprobes<P, C, 1> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
    /// ```
    pub const fn new(platform: &'static P, rendezvous: &'static Rendezvous<C>) -> Self {
        const {
            assert!(
                N >= 2,
                "a Kprobes registry needs a lookup table of N >= 2 entries"
            )
        };
        Kprobes {
            platform,
            rendezvous,
            locked: SpinLock::new(Locked {
                opt: [Opt::Candidate; N],
                slots: Slots {
                    alloc: SlotAllocator::empty(),
                    made: false,
                    error: None,
                    lent: [0; MAX_SLOTS / 32],
                },
                first_free_site: 0,
                sites_in_use: 0,
                pins: [0; N],
                any_thumb: false,
            }),
            live: AtomicU32::new(0),
            sites: [const { Site::new() }; N],
            table: [const { AtomicPtr::new(EMPTY) }; N],
            running: [const { AtomicU8::new(0) }; MAX_CPUS],
            stepping: fault::Stepping::new(),
        }
    }

    /// Takes the registry lock, or refuses at once when waiting could deadlock (IRQs
    /// masked on this CPU, or this CPU holds it already: see `spin_lock`). While it
    /// waits it joins every rendezvous it is invited to.
    pub(super) fn lock(&self) -> Result<Guard<'_, N>, KprobeError> {
        self.locked
            .lock(self.platform, self.rendezvous)
            .map_err(KprobeError::from)
    }

    /// Takes another lock of this kernel's registries (the return-probe table's) with
    /// the same rules as the registry lock.
    pub(crate) fn lock_other<'l, T>(
        &self,
        lock: &'l SpinLock<T>,
    ) -> Result<SpinLockGuard<'l, T>, KprobeError> {
        lock.lock(self.platform, self.rendezvous)
            .map_err(KprobeError::from)
    }

    pub(super) fn patcher(&self) -> TextPatcher<'static, P, C> {
        TextPatcher::new(self.rendezvous, self.platform)
    }

    /// The word at executable address `addr` (inside kernel text), read through the
    /// platform's view of text.
    pub(super) fn read_text(&self, addr: usize) -> u32 {
        // SAFETY: callers pass addresses inside kernel_text, for which text_alias gives a
        // valid aligned word (Platform contract); text words are only ever written with
        // single aligned stores, so an atomic load observes one of them.
        unsafe { AtomicU32::from_ptr(self.platform.text_alias(addr)).load(Ordering::Relaxed) }
    }

    pub(super) fn check_address(&self, addr: usize) -> Result<(), KprobeError> {
        if !addr.is_multiple_of(4) {
            return Err(KprobeError::Misaligned { addr });
        }
        self.check_span(addr, addr, 4)
    }

    /// That the `len` bytes from `at` are kernel text and `at` is in no never-probe
    /// range, for the probe at `addr` (an A32 word, or one Thumb halfword).
    #[inline(always)]
    pub(super) fn check_span(&self, addr: usize, at: usize, len: usize) -> Result<(), KprobeError> {
        let text = self.platform.kernel_text();
        if !(text.start <= at && at.checked_add(len).is_some_and(|e| e <= text.end)) {
            return Err(KprobeError::OutsideText { addr });
        }
        if let Some(r) = self.platform.never_probe().iter().find(|r| r.contains(&at)) {
            return Err(KprobeError::NeverProbe {
                addr,
                range: (r.start, r.end),
            });
        }
        Ok(())
    }

    /// Whether `word` at `addr` is a probe of another registry over the same text: a
    /// breakpoint word, or a branch into a slot region (this registry's or one another
    /// registry of this machine claimed). Taking it for the original would save the
    /// probe as "the instruction" and break the text for good once both unregister.
    pub(super) fn is_foreign_probe(&self, addr: usize, word: u32) -> bool {
        if BreakpointWord::is_breakpoint(Insn(word)) {
            return true;
        }
        match Branch::decode(Insn(word), addr as u32) {
            Some(b @ (Branch::B { .. } | Branch::Bl { .. })) => {
                let target = b.target() as usize;
                self.platform.slot_region().contains(&target)
                    || self.rendezvous.slot_claims().contains(target)
            }
            _ => false,
        }
    }

    /// Registers `probe` at `addr`, enabled, and arms the address on every CPU.
    ///
    /// Call it from thread context with IRQs enabled. `addr` must be the address of an
    /// instruction: the word there is decoded, but a literal-pool word (data in text)
    /// that happens to decode as an instruction cannot be told apart and is accepted —
    /// probing it would corrupt the data it holds. [`Kprobes::register_symbol`] keeps
    /// the address inside a symbol.
    ///
    /// # Errors
    ///
    /// Every [`KprobeError`] says why; the probe, the registry and the text are then as
    /// they were. Called with IRQs masked (from a probe handler, an exception handler,
    /// with interrupts off) it returns [`KprobeError::InterruptsMasked`] at once, and
    /// from an interrupt handler that interrupted a registry call on this CPU
    /// [`KprobeError::Reentered`]: it never waits where waiting could deadlock.
    pub fn register(&self, probe: &'static Kprobe, addr: usize) -> Result<(), KprobeError> {
        if addr & 1 == 1 {
            return self.register_thumb(probe, addr);
        }
        self.check_address(addr)?;
        self.register_checked(probe, addr, |g| self.new_arm_site(g, probe, addr))
    }

    /// [`Kprobes::register`] once the address is checked: takes the lock, adds `probe`
    /// to the address's site, or has `new_site` make one (lock held).
    #[inline(always)]
    pub(super) fn register_checked(
        &self,
        probe: &'static Kprobe,
        addr: usize,
        new_site: impl FnOnce(&mut Guard<'_, N>) -> Result<(), KprobeError>,
    ) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        if probe.state.load(Ordering::Acquire) != UNREGISTERED {
            return Err(KprobeError::AlreadyRegistered {
                addr: probe.addr.load(Ordering::Relaxed),
            });
        }
        let ptr = probe as *const Kprobe as *mut Kprobe;
        if let Some((_, site)) = self.find(addr) {
            if site.count() == PROBES_PER_ADDRESS {
                return Err(KprobeError::TooManyAtAddress { addr });
            }
            self.prepare_probe(probe, addr);
            // Probes run in registration order: compact the list, the new one goes last.
            self.edit_list(site, |list| {
                let mut live: [*mut Kprobe; PROBES_PER_ADDRESS] =
                    [core::ptr::null_mut(); PROBES_PER_ADDRESS];
                let mut n = 0;
                for p in list
                    .iter()
                    .map(|p| p.load(Ordering::Relaxed))
                    .filter(|p| !p.is_null())
                {
                    live[n] = p;
                    n += 1;
                }
                live[n] = ptr;
                for (slot, p) in list.iter().zip(live) {
                    slot.store(p, Ordering::Relaxed);
                }
            });
            if !site.armed.load(Ordering::Relaxed)
                && let Err(e) = self.set_armed(addr, site, true)
            {
                self.unlink(site, ptr);
                probe.state.store(UNREGISTERED, Ordering::Release);
                return Err(e);
            }
            return Ok(());
        }
        new_site(&mut g)
    }

    /// A new site at the A32 instruction at `addr` (registry lock held), holding `probe`.
    #[inline(always)]
    fn new_arm_site(
        &self,
        g: &mut Guard<'_, N>,
        probe: &'static Kprobe,
        addr: usize,
    ) -> Result<(), KprobeError> {
        if g.any_thumb {
            self.check_no_overlap(addr, addr, 4)?;
        }
        let word = self.read_text(addr);
        if self.is_foreign_probe(addr, word) {
            return Err(KprobeError::ForeignProbe { addr, word });
        }
        let kind = match decode::decode(Insn(word)) {
            Decoded::Rejected(reason) => return Err(KprobeError::Rejected { addr, word, reason }),
            Decoded::Simulate(kind) => kind,
        };
        check_stack_use(addr, decode::stack_use_decoded(Insn(word), kind))?;
        let (index, site) = self.claim_site(g)?;
        site.addr.store(addr, Ordering::Relaxed);
        site.original.store(word, Ordering::Relaxed);
        // SAFETY: the site is free and unpublished (see the Sync impl).
        unsafe { *site.plan.get() = Plan::new(kind, Insn(word)) };
        // Whether a trampoline may run it in place is the optimizer's question, answered
        // there (`optprobe::variant_of`): registration keeps only what a hit needs.
        g.opt[index] = Opt::Candidate;
        self.publish_site(g, probe, site)
    }

    /// The first free site, taken for a new probed address (registry lock held), or
    /// [`KprobeError::OutOfSites`].
    #[inline(always)]
    pub(super) fn claim_site(&self, g: &mut Guard<'_, N>) -> Result<(usize, &Site), KprobeError> {
        if self.live.load(Ordering::Relaxed) as usize >= N / 2 {
            return Err(KprobeError::OutOfSites);
        }
        let from = g.first_free_site;
        let Some(index) = self.sites[from..]
            .iter()
            .position(|s| s.addr.load(Ordering::Relaxed) == 0)
            .map(|i| from + i)
        else {
            return Err(KprobeError::OutOfSites);
        };
        g.first_free_site = index + 1;
        g.sites_in_use = g.sites_in_use.max(index + 1);
        Ok((index, &self.sites[index]))
    }

    /// Puts `probe` on the claimed `site` (its address, original and plan written),
    /// publishes the site in the lookup table and arms it; on failure takes it out
    /// again, leaving everything as it was.
    #[inline(always)]
    pub(super) fn publish_site(
        &self,
        g: &mut Guard<'_, N>,
        probe: &'static Kprobe,
        site: &Site,
    ) -> Result<(), KprobeError> {
        let addr = site.addr.load(Ordering::Relaxed);
        site.probes[0].store(probe as *const Kprobe as *mut Kprobe, Ordering::Relaxed);
        site.len.store(1, Ordering::Relaxed);
        site.armed.store(false, Ordering::Relaxed);
        self.prepare_probe(probe, addr);
        self.refresh_fast(site);
        // Publish: the first EMPTY or TOMBSTONE slot on the probe sequence.
        let mut slot = hash(addr, N);
        while !is_free(self.table[slot].load(Ordering::Relaxed)) {
            slot = (slot + 1) % N;
        }
        self.table[slot].store(core::ptr::from_ref(site).cast_mut(), Ordering::Release);
        self.live.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.set_armed(addr, site, true) {
            self.remove_site(g, slot, site);
            probe.state.store(UNREGISTERED, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    pub(super) fn prepare_probe(&self, probe: &Kprobe, addr: usize) {
        probe.hits.store(0, Ordering::Relaxed);
        probe.missed.store(0, Ordering::Relaxed);
        probe.addr.store(addr, Ordering::Relaxed);
        probe.state.store(ENABLED, Ordering::Release);
    }

    pub(super) fn remove_site(&self, g: &mut Guard<'_, N>, slot: usize, site: &Site) {
        let index = self.index_of(site);
        let next_empty = self.table[(slot + 1) % N].load(Ordering::Relaxed).is_null();
        self.table[slot].store(
            if next_empty { EMPTY } else { TOMBSTONE },
            Ordering::Release,
        );
        for p in &site.probes {
            p.store(core::ptr::null_mut(), Ordering::Relaxed);
        }
        site.len.store(0, Ordering::Relaxed);
        site.fast.store(core::ptr::null_mut(), Ordering::Relaxed);
        site.fast_pre_only
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        site.fast_slot.store(0, Ordering::Relaxed);
        site.armed.store(false, Ordering::Relaxed);
        self.live.fetch_sub(1, Ordering::Relaxed);
        if g.pins[index] > 0 {
            // A dirty slot's trampoline names this site: it keeps its address, original
            // and kind (and stays taken) until reclaim frees the last such slot.
            g.opt[index] = Opt::Retired;
            return;
        }
        let Locked {
            first_free_site,
            sites_in_use,
            ..
        } = &mut **g;
        Self::free_site(&self.sites, index, first_free_site, sites_in_use);
    }

    /// Makes site `index` (out of the table, no slot naming it) free for reuse.
    pub(super) fn free_site(
        sites: &[Site; N],
        index: usize,
        first_free_site: &mut usize,
        sites_in_use: &mut usize,
    ) {
        sites[index].addr.store(0, Ordering::Release);
        *first_free_site = (*first_free_site).min(index);
        // Scans stop at the highest site in use: lower the mark past free sites.
        let mut high = *sites_in_use;
        while high > 0 && sites[high - 1].addr.load(Ordering::Relaxed) == 0 {
            high -= 1;
        }
        *sites_in_use = high;
    }

    /// Registers `probe` at `offset` bytes into the function `name`: the whole
    /// instruction at the offset must lie inside the symbol's size. A Thumb function (a
    /// range starting at an odd address, as its ELF symbol value is) takes offsets that
    /// are multiples of 2, and a 16-bit instruction may end the symbol.
    ///
    /// # Errors
    ///
    /// [`KprobeError::UnknownSymbol`], [`KprobeError::MisalignedOffset`],
    /// [`KprobeError::OffsetOutsideSymbol`], and every error of [`Kprobes::register`].
    pub fn register_symbol(
        &self,
        probe: &'static Kprobe,
        symbols: &impl SymbolLookup,
        name: &str,
        offset: usize,
    ) -> Result<(), KprobeError> {
        let range = symbols.lookup(name).ok_or(KprobeError::UnknownSymbol)?;
        let thumb = range.start & 1 == 1;
        if !offset.is_multiple_of(if thumb { 2 } else { 4 }) {
            return Err(KprobeError::MisalignedOffset { offset });
        }
        // The instruction's length: 4, but 2 for a 16-bit Thumb one (text that cannot be
        // read is left to `register`, which refuses it).
        let at = (range.start & !1).wrapping_add(offset);
        let narrow = thumb
            && self.platform.kernel_text().contains(&at)
            && !crate::insn::ThumbBreakpoint::starts_32_bit_instruction(self.read_half(at));
        let len = if narrow { 2 } else { 4 };
        if offset.checked_add(len).is_none_or(|end| end > range.len()) {
            return Err(KprobeError::OffsetOutsideSymbol {
                offset,
                size: range.len(),
            });
        }
        self.register(probe, range.start + offset)
    }

    /// Writes the breakpoint or the original word at `site`, as `arm` says.
    pub(super) fn set_armed(&self, addr: usize, site: &Site, arm: bool) -> Result<(), KprobeError> {
        let original = site.original.load(Ordering::Relaxed);
        if addr & 1 == 1 {
            return self.set_thumb_armed(addr, site, arm);
        }
        let word = if arm {
            BreakpointWord::for_original(Insn(original)).word()
        } else {
            original
        };
        self.patcher().patch(addr, word)?;
        site.armed.store(arm, Ordering::Relaxed);
        Ok(())
    }

    /// A quiescent point: once it returns, no CPU is inside a probe handler that started
    /// before it (handlers run with interrupts masked; the rendezvous needs every CPU to
    /// take an interrupt).
    pub(super) fn synchronize(&self) -> Result<(), KprobeError> {
        let me = self.platform.cpu_id();
        self.rendezvous
            .run(self.platform, RunOn::OneCpu(me), &|_| {})
            .map_err(KprobeError::Rendezvous)
    }

    /// Unregisters `probe`: when it was the last probe at its address the original word
    /// is back in text, exactly. When this returns its handlers are not running and will
    /// not run again.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`] when `probe` is not registered here;
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when restoring the word was refused and
    /// [`KprobeError::Rendezvous`] when the quiescence rendezvous was: the probe is then
    /// still registered.
    pub fn unregister(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        if probe.state.load(Ordering::Acquire) == UNREGISTERED {
            return Err(KprobeError::NotRegistered);
        }
        let addr = probe.addr.load(Ordering::Relaxed);
        let Some((slot, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        let ptr = probe as *const Kprobe as *mut Kprobe;
        let others_enabled = site.probes.iter().any(|p| {
            let p = p.load(Ordering::Relaxed);
            p != ptr && live(p).is_some_and(Kprobe::enabled)
        });
        // Out of the list first, then the rendezvous (which also restores the original
        // when the last enabled probe goes). Not the other way round: a CPU the
        // rendezvous held in a trampoline's entry window (before its `cpsid`) calls the
        // callback after the rendezvous, and must find no handler of this probe to run.
        let at = self.unlink(site, ptr);
        let quiesced = if site.armed.load(Ordering::Relaxed) && !others_enabled {
            self.disarm(&mut g, addr, site)
        } else {
            self.synchronize()
        };
        if let Err(e) = quiesced {
            if let Some(i) = at {
                self.edit_list(site, |list| list[i].store(ptr, Ordering::Relaxed));
            }
            return Err(e);
        }
        probe.state.store(UNREGISTERED, Ordering::Release);
        if site.count() == 0 {
            self.remove_site(&mut g, slot, site);
        }
        Ok(())
    }

    /// Takes `ptr` out of the site's list; returns where it was.
    pub(super) fn unlink(&self, site: &Site, ptr: *mut Kprobe) -> Option<usize> {
        let mut at = None;
        self.edit_list(site, |list| {
            for (i, p) in list.iter().enumerate() {
                if p.load(Ordering::Relaxed) == ptr {
                    p.store(core::ptr::null_mut(), Ordering::Relaxed);
                    at = Some(i);
                }
            }
        });
        at
    }

    /// Stops `probe` firing without unregistering it (its counters are kept). When no
    /// enabled probe remains at its address the original word goes back into text.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] or
    /// [`KprobeError::Rendezvous`] when disarming or the quiescence rendezvous was
    /// refused: the probe is then still enabled.
    pub fn disable(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        let addr = match probe.state.load(Ordering::Acquire) {
            UNREGISTERED => return Err(KprobeError::NotRegistered),
            DISABLED => return Ok(()),
            _ => probe.addr.load(Ordering::Relaxed),
        };
        let Some((_, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        probe.state.store(DISABLED, Ordering::Release);
        self.refresh_fast(site);
        let result = if site.any_enabled() {
            self.synchronize()
        } else {
            self.disarm(&mut g, addr, site)
        };
        if result.is_err() {
            probe.state.store(ENABLED, Ordering::Release);
            self.refresh_fast(site);
        }
        result
    }

    /// Makes a disabled `probe` fire again, re-arming its address if needed.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when
    /// re-arming the address was refused: the probe then stays disabled.
    pub fn enable(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let _g = self.lock()?;
        let addr = match probe.state.load(Ordering::Acquire) {
            UNREGISTERED => return Err(KprobeError::NotRegistered),
            ENABLED => return Ok(()),
            _ => probe.addr.load(Ordering::Relaxed),
        };
        let Some((_, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        if !site.armed.load(Ordering::Relaxed) {
            self.set_armed(addr, site, true)?;
        }
        probe.state.store(ENABLED, Ordering::Release);
        self.refresh_fast(site);
        Ok(())
    }

    /// How `site` is probed in text now (registry lock held).
    pub(super) fn mechanism(&self, g: &Guard<'_, N>, site: &Site) -> Mechanism {
        if !site.armed.load(Ordering::Relaxed) {
            return Mechanism::Disarmed;
        }
        match g.opt[self.index_of(site)] {
            Opt::Candidate => Mechanism::Breakpoint,
            Opt::Failed(why) => Mechanism::NotOptimized(why),
            Opt::Optimized(_, variant) => Mechanism::Optimized(variant),
            Opt::Retired => Mechanism::Disarmed,
        }
    }

    /// How the address `probe` is registered at is probed in text now.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]).
    pub fn mechanism_of(&self, probe: &'static Kprobe) -> Result<Mechanism, KprobeError> {
        let g = self.lock()?;
        if probe.state.load(Ordering::Acquire) == UNREGISTERED {
            return Err(KprobeError::NotRegistered);
        }
        let (_, site) = self
            .find(probe.addr.load(Ordering::Relaxed))
            .ok_or(KprobeError::NotRegistered)?;
        Ok(self.mechanism(&g, site))
    }

    /// Takes the probe out of text: the original word back (from a breakpoint or from a
    /// branch, in one rendezvous, which is also the quiescent point for the handlers).
    /// An optimized site's slot goes dirty, naming the site (which therefore outlives
    /// an unregister until the slot is free), and a reclaim is tried at once: it frees
    /// the slot only if its rendezvous saw no CPU inside it (see `optprobe`).
    pub(super) fn disarm(
        &self,
        g: &mut Guard<'_, N>,
        addr: usize,
        site: &Site,
    ) -> Result<(), KprobeError> {
        self.set_armed(addr, site, false)?;
        let index = self.index_of(site);
        if let Opt::Optimized(slot, _) = g.opt[index] {
            g.opt[index] = Opt::Candidate;
            // The slot is no longer the site's: its `fast` literal stays as the last
            // refresh left it (null when the change that disarmed was this probe's).
            site.fast_slot.store(0, Ordering::Relaxed);
            if let Some(alloc) = g.slots.get() {
                // The slot came from this allocator and is in use: this cannot fail.
                if alloc.release_tagged(slot, index as u32 + 1).is_ok() {
                    g.pins[index] += 1;
                }
            }
            // A failed reclaim leaves the slot dirty until the next one.
            let _ = self.reclaim_locked(g);
        }
        Ok(())
    }

    /// Calls `each` for every registered probe: addresses in the registry's storage order
    /// (not sorted; sort the rows by `addr` if you need), the probes of one address in
    /// registration order. `each` runs with the registry lock held: a registry call from
    /// it returns [`KprobeError::Reentered`].
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); nothing is listed then.
    pub fn list(&self, mut each: impl FnMut(ProbeInfo)) -> Result<(), KprobeError> {
        let g = self.lock()?;
        for site in self.used_sites(&g) {
            let addr = site.addr.load(Ordering::Relaxed);
            if addr == 0 {
                continue;
            }
            let mechanism = self.mechanism(&g, site);
            for p in site
                .probes
                .iter()
                .filter_map(|p| live(p.load(Ordering::Relaxed)))
            {
                each(ProbeInfo {
                    addr,
                    state: p.state(),
                    hits: p.hits(),
                    missed: p.missed(),
                    data: p.data(),
                    mechanism,
                });
            }
        }
        Ok(())
    }

    /// Number of probed addresses.
    pub fn sites(&self) -> usize {
        self.live.load(Ordering::Relaxed) as usize
    }
}

/// Refuses an instruction that may store further below SP than a trap frame leaves room
/// for ([`MAX_STACK_WRITE_BELOW_SP`]), or by an amount only known when it runs.
#[inline(always)]
pub(super) fn check_stack_use(addr: usize, used: StackUse) -> Result<(), KprobeError> {
    match used {
        StackUse::None => Ok(()),
        StackUse::Bytes(b) if b <= MAX_STACK_WRITE_BELOW_SP => Ok(()),
        StackUse::Bytes(b) => Err(KprobeError::StackWrite {
            addr,
            bytes: Some(b),
        }),
        StackUse::Unknown => Err(KprobeError::StackWrite { addr, bytes: None }),
    }
}
