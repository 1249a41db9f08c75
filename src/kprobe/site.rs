//! Probe sites and the lookup: one probed address's original word and probe list, and
//! the open-addressing table a hit finds its site in by pc.

use super::*;

impl Site {
    pub(super) const fn new() -> Site {
        Site {
            addr: AtomicUsize::new(0),
            original: AtomicU32::new(0),
            seq: AtomicU32::new(0),
            probes: [const { AtomicPtr::new(core::ptr::null_mut()) }; PROBES_PER_ADDRESS],
            len: AtomicU32::new(0),
            fast: AtomicPtr::new(core::ptr::null_mut()),
            fast_pre_only: AtomicPtr::new(core::ptr::null_mut()),
            fast_slot: AtomicUsize::new(0),
            plan: UnsafeCell::new(Plan::UNSET),
            thumb: UnsafeCell::new(None),
            armed: AtomicBool::new(false),
            direct: AtomicBool::new(false),
            batch_next: AtomicU32::new(0),
            batch_word: AtomicU32::new(0),
        }
    }

    /// The probes of a consistent copy of the list that are enabled, in order, and how
    /// many (lock-free; retries while a writer is mid-update, which it never is for
    /// long: writers mask interrupts). Reads only the list's occupied prefix.
    #[inline(always)]
    pub(super) fn enabled_probes(&self) -> ([*const Kprobe; PROBES_PER_ADDRESS], usize) {
        let mut out = [core::ptr::null::<Kprobe>(); PROBES_PER_ADDRESS];
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 0 {
                // Relaxed: the fence below orders these loads before the second read
                // of the counter (the seqlock read side).
                let len = (self.len.load(Ordering::Relaxed) as usize).min(PROBES_PER_ADDRESS);
                let mut n = 0;
                for p in &self.probes[..len] {
                    let p = p.load(Ordering::Relaxed) as *const Kprobe;
                    if live(p).is_some_and(Kprobe::enabled) {
                        out[n] = p;
                        n += 1;
                    }
                }
                core::sync::atomic::fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == s1 {
                    return (out, n);
                }
            }
            core::hint::spin_loop();
        }
    }

    /// Sets `len` after the list changed (registry lock, inside the write section).
    pub(super) fn update_len(&self) {
        let len = self
            .probes
            .iter()
            .rposition(|p| !p.load(Ordering::Relaxed).is_null())
            .map_or(0, |i| i + 1);
        self.len.store(len as u32, Ordering::Relaxed);
    }

    /// Recomputes `fast` from the list and the states of its probes (registry lock held:
    /// call after every change of either, with `len` up to date).
    pub(super) fn refresh_fast(&self) {
        let len = (self.len.load(Ordering::Relaxed) as usize).min(PROBES_PER_ADDRESS);
        let (mut only, mut n) = (core::ptr::null_mut(), 0);
        for p in &self.probes[..len] {
            let p = p.load(Ordering::Relaxed);
            if !p.is_null() {
                (only, n) = (p, n + 1);
            }
        }
        let (only, pre_only) = match live(only) {
            Some(p) if n == 1 && p.enabled() => (only, p.pre.is_some() && p.post.is_none()),
            _ => (core::ptr::null_mut(), false),
        };
        // The trap path's fast path tests no condition: a conditional original (whose
        // trap may be a failed condition) takes the general path.
        // (A Thumb site's hit never reads `fast` or `fast_pre_only`: it takes the
        // general path, and it is never optimized.)
        let fast = if Insn(self.original.load(Ordering::Relaxed)).always_passes() {
            only
        } else {
            core::ptr::null_mut()
        };
        // Release: a hit that loads them (Acquire) sees the probe as registered.
        self.fast.store(fast, Ordering::Release);
        // An optimized site's branch keeps the original's condition: its trampoline runs
        // only when the condition passed, so a direct slot's fast path needs no test.
        let pre_only = if pre_only {
            only
        } else {
            core::ptr::null_mut()
        };
        self.fast_pre_only.store(pre_only, Ordering::Release);
    }

    pub(super) fn count(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| !p.load(Ordering::Relaxed).is_null())
            .count()
    }

    pub(super) fn any_enabled(&self) -> bool {
        self.probes
            .iter()
            .any(|p| live(p.load(Ordering::Relaxed)).is_some_and(Kprobe::enabled))
    }
}

/// The probe a list entry points at.
pub(super) fn live(p: *const Kprobe) -> Option<&'static Kprobe> {
    // SAFETY: list entries are null or were made from a `&'static Kprobe` by `register`;
    // Kprobes are never freed, so a non-null entry is always a valid reference.
    unsafe { p.as_ref() }
}

/// A table entry no site ever used.
pub(super) const EMPTY: *mut Site = core::ptr::null_mut();
/// A table entry whose site left (the probe sequence goes on past it): odd, so never the
/// address of a `Site`.
pub(super) const TOMBSTONE: *mut Site = core::ptr::without_provenance_mut(1);

/// Whether a table entry can take a new site.
pub(super) fn is_free(entry: *mut Site) -> bool {
    entry == EMPTY || entry == TOMBSTONE
}

/// The table slot a site's probe sequence starts at: the word index plus its bits above
/// the table's size, modulo `n` (three instructions on the hit path for a power-of-two
/// table). The added part never falls and grows by one every `n` words, so text further
/// apart than the table spans spreads instead of aliasing, and any `n - 1` consecutive
/// words take distinct slots wherever they lie (two words less than `n - 1` apart would
/// need the added part to make up `n`). An exclusive or in its place, as first written,
/// costs one instruction less (the fold fits the index's bits, so no mask is needed) but
/// gives only table-aligned stretches distinct slots: a layout change made the bench's
/// probe collide with one of its 10,000 neighbours.
#[inline(always)]
pub(super) fn hash(addr: usize, n: usize) -> usize {
    let word = addr as u32 >> 2;
    let bits = usize::BITS - 1 - n.leading_zeros(); // floor(log2 n), below 32
    (word.wrapping_add(word >> bits) as usize) % n
}

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// [`Site::refresh_fast`], and the `fast` literal of the site's trampoline with it
    /// when that trampoline runs the fast path itself (registry lock held).
    pub(super) fn refresh_fast(&self, site: &Site) {
        site.refresh_fast();
        let at = site.fast_slot.load(Ordering::Relaxed);
        if at != 0 {
            let fast = site.fast_pre_only.load(Ordering::Relaxed) as usize as u32;
            // SAFETY: `at` is a word of a slot this registry filled and still owns (set
            // by `optimize_pending` with the slot, cleared before the slot is released),
            // inside the slot region, so `text_alias` gives a valid, aligned, writable
            // view (Platform contract). The trampoline only reads it as data (its `ldm`
            // of literals), so a single aligned store with no cache maintenance is
            // enough; Release publishes the probe as `fast_pre_only`'s store does.
            unsafe {
                AtomicU32::from_ptr(self.platform.text_alias(at)).store(fast, Ordering::Release)
            };
        }
    }

    /// Index of `site` in `self.sites`.
    pub(super) fn index_of(&self, site: &Site) -> usize {
        (site as *const Site as usize - self.sites.as_ptr() as usize) / core::mem::size_of::<Site>()
    }

    /// Every site that may be in use (the ones above are free).
    pub(super) fn used_sites(&self, g: &Guard<'_, N>) -> &[Site] {
        &self.sites[..g.sites_in_use]
    }

    /// The table slot holding `addr`, if any.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub(super) fn find(&self, addr: usize) -> Option<(usize, &Site)> {
        self.look_up(addr, Ordering::Acquire)
    }

    /// The site of the breakpoint this CPU trapped on at `addr`, if any: [`Kprobes::find`]
    /// for the trap path. Relaxed loads suffice: every word the crate puts into text is
    /// written inside a rendezvous that every online CPU joins, after the site and its
    /// table entry were stored, so a CPU that executed the breakpoint has synchronized
    /// with those stores; and the trap masked its interrupts, so no rendezvous that
    /// takes the site away can complete before the hit ends.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(super) fn find_trapped(&self, addr: usize) -> Option<&Site> {
        // The site's first slot, inline: where a hit finds it unless a collision moved it.
        let v = self.table[hash(addr, N)].load(Ordering::Relaxed);
        if v.addr() > TOMBSTONE.addr() {
            // SAFETY: as in `look_up`.
            let site = unsafe { &*v };
            if site.addr.load(Ordering::Relaxed) == addr {
                return Some(site);
            }
        } else if v == EMPTY {
            return None;
        }
        self.find_trapped_further(addr)
    }

    /// [`Kprobes::find_trapped`] past the first slot, out of line.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    fn find_trapped_further(&self, addr: usize) -> Option<&Site> {
        self.look_up(addr, Ordering::Relaxed).map(|(_, site)| site)
    }

    /// The open-addressing probe sequence from `addr`'s hash, loading table entries with
    /// `order`.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    fn look_up(&self, addr: usize, order: Ordering) -> Option<(usize, &Site)> {
        let mut i = hash(addr, N);
        for _ in 0..N {
            let v = self.table[i].load(order);
            // EMPTY is 0 and TOMBSTONE 1: one compare tells a site from both.
            if v.addr() > TOMBSTONE.addr() {
                // SAFETY: an entry other than EMPTY and TOMBSTONE was stored by
                // `register` from a reference to one of `self.sites`, which live as
                // long as `self`; a site is only ever read through shared references.
                let site = unsafe { &*v };
                if site.addr.load(Ordering::Relaxed) == addr {
                    return Some((i, site));
                }
            } else if v == EMPTY {
                return None;
            }
            i = (i + 1) % N;
        }
        None
    }

    /// Rewrites a site's probe list while holding the registry lock, with interrupts
    /// masked so no trap handler on this CPU can spin on the odd counter.
    pub(super) fn edit_list(
        &self,
        site: &Site,
        edit: impl FnOnce(&[AtomicPtr<Kprobe>; PROBES_PER_ADDRESS]),
    ) {
        let irq = self.platform.mask_interrupts();
        site.seq.fetch_add(1, Ordering::AcqRel);
        core::sync::atomic::fence(Ordering::Release);
        edit(&site.probes);
        site.update_len();
        self.refresh_fast(site);
        site.seq.fetch_add(1, Ordering::Release);
        self.platform.restore_interrupts(irq);
    }
}
