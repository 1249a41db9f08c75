//! The table's API: register and unregister return probes, under the table lock, each
//! arming or disarming its entry breakpoint in the kprobe registry.

use super::*;

impl<P: Platform + ?Sized + 'static> Kretprobes<P> {
    /// Takes the table lock the way the registry takes its own (see `spin_lock`):
    /// refused at once with IRQs masked or when this CPU holds it, joining `kprobes`'
    /// rendezvous while it waits.
    pub(super) fn lock<KP: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<KP, C, N>,
    ) -> Result<SpinLockGuard<'_, ()>, KretprobeError> {
        kprobes
            .lock_other(&self.lock)
            .map_err(KretprobeError::Kprobe)
    }

    pub(super) fn used(&self) -> &[AtomicPtr<Kretprobe>] {
        &self.probes[..self.used.load(Ordering::Acquire).min(MAX_KRETPROBES)]
    }

    /// The table entry holding `probe`, or a free one (never used, or holding an
    /// unregistered probe with no call in flight). Registry lock held.
    pub(super) fn entry_for(&self, probe: &'static Kretprobe) -> Result<usize, KretprobeError> {
        let ptr = core::ptr::from_ref(probe).cast_mut();
        let used = self.used();
        if let Some(i) = used.iter().position(|p| p.load(Ordering::Relaxed) == ptr) {
            return Ok(i);
        }
        let reusable = used.iter().position(|p| {
            // SAFETY: entries are null or made from a `&'static Kretprobe` by `register`.
            match unsafe { p.load(Ordering::Relaxed).as_ref() } {
                None => true,
                Some(old) => !old.is_registered() && old.outstanding() == 0,
            }
        });
        match reusable {
            Some(i) => Ok(i),
            None if used.len() < MAX_KRETPROBES => Ok(used.len()),
            None => Err(KretprobeError::TableFull),
        }
    }

    /// Registers `probe` on the function whose first instruction is at `addr`: its entry
    /// breakpoint goes into `kprobes` (armed on every core), and from then on every call
    /// runs the entry handler and, when it returns, the return handler.
    ///
    /// # Errors
    ///
    /// [`KretprobeError::AlreadyRegistered`], [`KretprobeError::OtherTable`],
    /// [`KretprobeError::TableFull`], [`KretprobeError::ReturnPathTaken`], and the
    /// registry's errors for the entry breakpoint as [`KretprobeError::Kprobe`] (among
    /// them [`KprobeError::InterruptsMasked`] when called with IRQs masked). The probe,
    /// the table and the text are then as they were.
    pub fn register<KP: Platform, C: CacheOps, const N: usize>(
        &'static self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
        addr: usize,
    ) -> Result<(), KretprobeError> {
        let _g = self.lock(kprobes)?;
        if probe.is_registered() {
            return Err(KretprobeError::AlreadyRegistered {
                addr: probe.kprobe.addr().unwrap_or(0),
            });
        }
        let me = self.header();
        let owner = probe.table.load(Ordering::Acquire);
        if owner != return_path::no_table() && owner != me {
            return Err(KretprobeError::OtherTable);
        }
        let entry = self.entry_for(probe)?;
        let (previous_entry, previous_used) = (
            self.probes[entry].load(Ordering::Relaxed),
            self.used.load(Ordering::Relaxed),
        );
        // The trampoline must know this table before the entry probe is armed. Installing
        // it for the first time is undone on failure below: nothing can be in flight yet.
        #[cfg(target_arch = "arm")]
        let installed_now = match RETURN_PATH.compare_exchange(
            return_path::no_table(),
            me,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(other) if other == me => false,
            Err(_) => return Err(KretprobeError::ReturnPathTaken),
        };
        // Published before arming: the return path must find every call's probe.
        self.probes[entry].store(core::ptr::from_ref(probe).cast_mut(), Ordering::Release);
        self.used
            .store(previous_used.max(entry + 1), Ordering::Release);
        // The entry hook rebuilds a pointer to the whole Kretprobe from its Kprobe's
        // address (see `from_entry_kprobe`).
        let _ = core::ptr::from_ref(probe).expose_provenance();
        let before = (
            probe.generation.load(Ordering::Relaxed),
            probe.hits(),
            probe.missed.load(Ordering::Relaxed),
            probe.stubs.load(Ordering::Relaxed),
        );
        // Never 0 (which `live` reads as unregistered).
        let generation = before.0.wrapping_add(1).max(1);
        probe.stubs.store(stubs_of_entry(entry), Ordering::Relaxed);
        probe.table.store(me, Ordering::Release);
        probe.generation.store(generation, Ordering::Relaxed);
        // The entry probe's hits start at 0 too (the registry resets them).
        probe.unfollowed.store(0, Ordering::Relaxed);
        probe.missed.store(0, Ordering::Relaxed);
        probe.live.store(generation, Ordering::Release);
        if let Err(e) = kprobes.register(&probe.kprobe, addr) {
            probe.live.store(0, Ordering::Release);
            probe.generation.store(before.0, Ordering::Relaxed);
            // The registry may have reset the entry probe's hits: count from there to the
            // hits from before (the probe is not armed, so neither count moves now).
            probe.unfollowed.store(
                probe.kprobe.hits().wrapping_sub(before.1),
                Ordering::Relaxed,
            );
            probe.missed.store(before.2, Ordering::Relaxed);
            probe.stubs.store(before.3, Ordering::Relaxed);
            probe.table.store(owner, Ordering::Release);
            self.probes[entry].store(previous_entry, Ordering::Release);
            self.used.store(previous_used, Ordering::Release);
            #[cfg(target_arch = "arm")]
            if installed_now {
                RETURN_PATH.store(return_path::no_table(), Ordering::Release);
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Registers `probe` on the function called `name` (at its first instruction, where a
    /// return probe belongs), found through `symbols`: [`Kretprobes::register`] by name.
    ///
    /// # Errors
    ///
    /// [`KprobeError::UnknownSymbol`] (as [`KretprobeError::Kprobe`]) when `symbols` does
    /// not know `name`, and every error of [`Kretprobes::register`].
    pub fn register_symbol<KP: Platform, C: CacheOps, const N: usize>(
        &'static self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
        symbols: &impl SymbolLookup,
        name: &str,
    ) -> Result<(), KretprobeError> {
        let function = symbols
            .lookup(name)
            .ok_or(KretprobeError::Kprobe(KprobeError::UnknownSymbol))?;
        self.register(kprobes, probe, function.start)
    }

    /// Stops `probe` following calls without unregistering it: its entry probe is
    /// disabled (the entry breakpoint leaves text unless another enabled probe shares the
    /// address), its counters are kept, and calls already followed still return through
    /// the trampoline and run the return handler. Disabling a disabled probe does
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`KretprobeError::NotRegistered`], [`KretprobeError::OtherTable`], and the
    /// registry's errors as [`KretprobeError::Kprobe`] (among them
    /// [`KprobeError::InterruptsMasked`] when called with IRQs masked): the probe then
    /// still follows calls.
    pub fn disable<KP: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
    ) -> Result<(), KretprobeError> {
        let _g = self.lock_own(kprobes, probe)?;
        kprobes.disable(&probe.kprobe).map_err(KretprobeError::from)
    }

    /// Makes a disabled `probe` follow calls again (its entry breakpoint back in text).
    /// Enabling an enabled probe does nothing.
    ///
    /// # Errors
    ///
    /// As [`Kretprobes::disable`]; the probe then stays disabled.
    pub fn enable<KP: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
    ) -> Result<(), KretprobeError> {
        let _g = self.lock_own(kprobes, probe)?;
        kprobes.enable(&probe.kprobe).map_err(KretprobeError::from)
    }

    /// The table lock, once `probe` is known to be registered in this table.
    fn lock_own<KP: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
    ) -> Result<SpinLockGuard<'_, ()>, KretprobeError> {
        let g = self.lock(kprobes)?;
        if !probe.is_registered() {
            return Err(KretprobeError::NotRegistered);
        }
        if probe.table.load(Ordering::Acquire) != self.header() {
            return Err(KretprobeError::OtherTable);
        }
        Ok(g)
    }

    /// Unregisters `probe`: its entry breakpoint leaves text, and when this returns
    /// neither of its handlers is running or will run again. Returns the number of calls
    /// still in flight; they return to their callers through the trampoline, which frees
    /// their instances. A followed call that returns while the unregistration is under
    /// way (after the probe stopped following, before this returns) returns to its
    /// caller without running the return handler, and is not in the returned count.
    ///
    /// # Errors
    ///
    /// [`KretprobeError::NotRegistered`], [`KretprobeError::OtherTable`], and the
    /// registry's errors as [`KretprobeError::Kprobe`] — among them
    /// [`KprobeError::InterruptsMasked`] at once when called with IRQs masked (e.g. from
    /// a handler). The probe is then as it was.
    pub fn unregister<KP: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<KP, C, N>,
        probe: &'static Kretprobe,
    ) -> Result<usize, KretprobeError> {
        let _g = self.lock_own(kprobes, probe)?;
        // From here on no new call is followed and no return handler starts (both check
        // the state with interrupts masked); the kprobe unregistration's rendezvous waits
        // for handlers that started before.
        let generation = probe.live.load(Ordering::Relaxed);
        probe.live.store(0, Ordering::Release);
        if let Err(e) = kprobes.unregister(&probe.kprobe) {
            probe.live.store(generation, Ordering::Release);
            return Err(e.into());
        }
        let in_flight = probe.outstanding();
        if in_flight == 0 {
            let ptr = core::ptr::from_ref(probe).cast_mut();
            if let Some(p) = self
                .used()
                .iter()
                .find(|p| p.load(Ordering::Relaxed) == ptr)
            {
                p.store(core::ptr::null_mut(), Ordering::Release);
            }
        }
        Ok(in_flight)
    }
}

/// The address of the first return stub of table entry `entry`'s instances, or 0 when
/// they have none (see [`Kretprobe::stubs`]).
fn stubs_of_entry(entry: usize) -> usize {
    #[cfg(target_arch = "arm")]
    {
        use crate::arch::kretprobe::{STUBS_PER_ENTRY, stub_address};
        if entry < MAX_KRETPROBES {
            stub_address(entry * STUBS_PER_ENTRY)
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let _ = entry;
        0
    }
}
