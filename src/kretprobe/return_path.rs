//! The return side: the entry hook that diverts a call's return, the Rust half of the
//! return trampoline, and the search for the returning call's instance.

use super::*;

/// The table the return trampolines consult (the first table that registered a probe):
/// its header, or [`NO_TABLE`]'s. Never null (the stub trampoline loads through it).
#[cfg(target_arch = "arm")]
pub(crate) static RETURN_PATH: AtomicPtr<TableHeader> =
    AtomicPtr::new(core::ptr::addr_of!(NO_TABLE).cast_mut());

/// The header of no table: what RETURN_PATH points at before any table installed itself
/// (a return then is a bug, nothing can be in flight: reported by a panic), and a
/// [`Kretprobe`]'s table before its first registration (its entry probe is not armed
/// then, so its entry hook cannot run; if it did, it would do nothing).
pub(super) static NO_TABLE: TableHeader = TableHeader {
    enter: no_table_enter,
    #[cfg(target_arch = "arm")]
    stub_return: no_table_stub_return,
    #[cfg(target_arch = "arm")]
    shared_return: no_table_return,
};

/// [`NO_TABLE`]'s address: no table.
pub(super) const fn no_table() -> *mut TableHeader {
    core::ptr::addr_of!(NO_TABLE).cast_mut()
}

unsafe fn no_table_enter(_: &'static Kretprobe, _: &mut TrapFrame, _: *const TableHeader) {}

#[cfg(target_arch = "arm")]
unsafe extern "C" fn no_table_stub_return(_: *const TableHeader, _: usize, _: &mut TrapFrame) {
    panic!("kretprobe stub trampoline reached before any return probe was registered");
}

#[cfg(target_arch = "arm")]
unsafe fn no_table_return(_: *const TableHeader, _: &mut TrapFrame) {
    panic!("kretprobe trampoline reached before any return probe was registered");
}

/// The return trampoline's Rust half: called by [`crate::arch::kretprobe`] with the frame
/// it saved.
#[cfg(target_arch = "arm")]
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(crate) fn return_path(frame: &mut TrapFrame) {
    let table = RETURN_PATH.load(Ordering::Acquire);
    // SAFETY: RETURN_PATH is NO_TABLE's header or was set from `Kretprobes::header` of a
    // `&'static Kretprobes<P>` by its `register`; either header holds its own functions.
    // The trampoline masked IRQs and FIQs.
    unsafe { ((*table).shared_return)(table, frame) }
}

#[cfg(target_arch = "arm")]
pub(super) fn trampoline() -> usize {
    crate::arch::kretprobe::trampoline_address()
}

/// On the host there is no trampoline to branch to: an address that is not code stands
/// for it, and the tests call [`Kretprobes::handle_return`] themselves.
#[cfg(not(target_arch = "arm"))]
pub(super) fn trampoline() -> usize {
    HOST_TRAMPOLINE
}

/// The stand-in trampoline address on the host (word-aligned, never a real function).
#[cfg(not(target_arch = "arm"))]
pub const HOST_TRAMPOLINE: usize = 0xffff_0f00;

impl<P: Platform + ?Sized + 'static> Kretprobes<P> {
    /// The entry side: in the entry breakpoint's trap, interrupts masked.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(super) fn enter(&self, probe: &'static Kretprobe, frame: &mut TrapFrame) {
        // Relaxed: a registration wrote `live` before arming the entry probe, and this
        // hook runs only through that armed probe; an unregistration's 0 seen late is
        // covered by its rendezvous (the return side compares generations again).
        let generation = probe.live.load(Ordering::Relaxed);
        if generation == 0 {
            probe.unfollowed.fetch_add(1, Ordering::Release);
            return;
        }
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        if self.in_return_handler[cpu].load(Ordering::Relaxed) {
            probe.missed.fetch_add(1, Ordering::Relaxed);
            probe.unfollowed.fetch_add(1, Ordering::Release);
            return;
        }
        // Instance 0 first, on its own: the common case (no other call of this probe in
        // flight) then knows its stub without computing it.
        // SAFETY: a pool holds at least one instance (asserted by `Kretprobe::new`).
        let first = unsafe { probe.slots.get_unchecked(0) };
        if first.take() {
            self.follow(probe, 0, first, generation, frame);
        } else if let Some((i, slot)) = probe
            .slots
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, s)| s.take())
        {
            self.follow(probe, i, slot, generation, frame);
        } else {
            probe.missed.fetch_add(1, Ordering::Relaxed);
            probe.unfollowed.fetch_add(1, Ordering::Release);
        }
    }

    /// The rest of the entry, for instance `i` (`slot`), which this core just claimed.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    fn follow(
        &self,
        probe: &'static Kretprobe,
        i: usize,
        slot: &InstanceSlot,
        generation: u32,
        frame: &mut TrapFrame,
    ) {
        slot.entry_sp.store(frame.sp, Ordering::Relaxed);
        slot.return_address.store(frame.lr, Ordering::Relaxed);
        slot.generation.store(generation, Ordering::Relaxed);
        if probe.entry_uses_instance && !run_entry(probe, i, slot, frame) {
            return;
        }
        let lr = if let Some(stub) = stub_of(probe, i) {
            stub
        } else {
            // Only calls returning through the shared trampoline are searched for (by
            // entry sp, newest stamp first: tail calls). Their stamps start at 1; an
            // instance with a stub is never stamped (0), so it never outranks one without.
            slot.stamp.store(
                self.stamp.fetch_add(1, Ordering::Relaxed) + 1,
                Ordering::Relaxed,
            );
            trampoline()
        };
        // Counted as a hit already: the entry probe's hit, with nothing in `unfollowed`.
        slot.state.store(ACTIVE, Ordering::Release);
        // A tail call from a followed function arrives with lr = a stub or the trampoline
        // already: it is followed like any call (see the module docs).
        frame.lr = lr as u32;
    }

    /// The newest instance in flight whose entry `sp` is `sp`. Stamps are compared only
    /// when more than one instance matches (a tail call).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub(super) fn find(&self, sp: u32) -> Option<(&'static Kretprobe, usize)> {
        let mut best: Option<(&'static Kretprobe, usize)> = None;
        let stamp = |(p, i): (&Kretprobe, usize)| p.slots[i].stamp.load(Ordering::Relaxed);
        for p in self.used() {
            // SAFETY: entries are null or made from a `&'static Kretprobe` by `register`.
            let Some(probe) = (unsafe { p.load(Ordering::Acquire).as_ref() }) else {
                continue;
            };
            for (i, s) in probe.slots.iter().enumerate() {
                if s.state.load(Ordering::Relaxed) != ACTIVE {
                    continue;
                }
                // Acquire for an ACTIVE instance only: pairs with the Release store that
                // made it ACTIVE, after its sp and stamp were written.
                core::sync::atomic::fence(Ordering::Acquire);
                if s.entry_sp.load(Ordering::Relaxed) != sp {
                    continue;
                }
                if best.is_none_or(|b| stamp((probe, i)) > stamp(b)) {
                    best = Some((probe, i));
                }
            }
        }
        best
    }

    /// The return side, called by the return trampoline with the frame it saved (`sp` is
    /// the stack pointer the function returned with). Finds the call's instance, sets
    /// `frame.pc` and `frame.lr` to the real return address, runs the return handler
    /// (interrupts masked) unless the probe was unregistered since the call started, and
    /// frees the instance.
    ///
    /// # Panics
    /// When no call in flight entered with this `sp`: the function did not restore its
    /// stack pointer, so its real return address cannot be found.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub fn handle_return(&self, frame: &mut TrapFrame) {
        let irq = self.platform.mask_interrupts();
        self.handle_return_masked(frame);
        self.platform.restore_interrupts(irq);
    }

    /// [`Kretprobes::handle_return`] with interrupts already masked (the ARM return
    /// trampoline masks IRQs and FIQs itself, and restores them after).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub(crate) fn handle_return_masked(&self, frame: &mut TrapFrame) {
        // Only the call's own stack has its sp, so no other core competes for the
        // instance; the compare-exchange makes that an invariant rather than an
        // assumption.
        let (probe, i) = loop {
            let Some((probe, i)) = self.find(frame.sp) else {
                panic!(
                    "kretprobe: no call in flight entered with sp {:#010x}: cannot return",
                    frame.sp
                );
            };
            if probe.slots[i]
                .state
                .compare_exchange(ACTIVE, RETURNING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                break (probe, i);
            }
        };
        self.finish_return(probe, i, &probe.slots[i], frame);
    }

    /// The return side of a call that returned through its own stub (`stub`, see
    /// [`crate::arch::kretprobe`]), interrupts masked: the stub names the instance, so
    /// nothing is searched.
    ///
    /// # Panics
    /// When the stub's instance is not in flight, or the call returns with another sp
    /// than it entered with (its real return address would then be wrong too).
    #[cfg(target_arch = "arm")]
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(crate) fn handle_stub_return(&self, stub: usize, frame: &mut TrapFrame) {
        use crate::arch::kretprobe::STUBS_PER_ENTRY;
        let (entry, i) = (stub / STUBS_PER_ENTRY, stub % STUBS_PER_ENTRY);
        // SAFETY: entries are null or made from a `&'static Kretprobe` by `register`; an
        // entry keeps its probe while any of its calls is in flight (`entry_for`).
        let probe = self
            .probes
            .get(entry)
            .and_then(|p| unsafe { p.load(Ordering::Relaxed).as_ref() });
        // Only the core the call returns on touches an ACTIVE instance's state (the
        // entering core made it ACTIVE with its last write; `claim` takes FREE ones
        // only), so a load and a store move it to RETURNING.
        let Some((probe, slot)) = probe.and_then(|p| {
            p.slots
                .get(i)
                .filter(|s| s.state.load(Ordering::Relaxed) == ACTIVE)
                .map(|s| (p, s))
        }) else {
            no_call_in_flight(stub);
        };
        // Pairs with the Release stores that published the table entry and made the
        // instance ACTIVE (after its sp, return address and generation were written).
        core::sync::atomic::fence(Ordering::Acquire);
        let entered = slot.entry_sp.load(Ordering::Relaxed);
        if entered != frame.sp {
            wrong_sp(entered, frame.sp);
        }
        // The instance stays ACTIVE (not RETURNING) until freed: the state of an ACTIVE
        // instance is written only by the core it returns on (see above), with
        // interrupts masked, and no search can match it meanwhile (a search runs only
        // for a call that returns through the shared trampoline, and calls made inside
        // the return handler are not followed).
        self.finish_return(probe, i, slot, frame);
    }

    /// Instance `i` of `probe` (RETURNING, this core's) returns: `frame.pc` and
    /// `frame.lr` get the real return address, the return handler runs unless the probe
    /// was unregistered since the call started, and the instance is freed.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    fn finish_return(
        &self,
        probe: &'static Kretprobe,
        i: usize,
        slot: &InstanceSlot,
        frame: &mut TrapFrame,
    ) {
        let ret = slot.return_address.load(Ordering::Relaxed);
        frame.pc = ret;
        frame.lr = ret;
        // `live` is 0 while unregistered and a new generation after re-registering.
        if slot.generation.load(Ordering::Relaxed) == probe.live.load(Ordering::Relaxed) {
            // Only this core touches its flag, with interrupts masked: a plain load and
            // store suffice.
            let in_handler = &self.in_return_handler[self.platform.cpu_id() % MAX_CPUS];
            if in_handler.load(Ordering::Relaxed) {
                // Unreachable in practice (calls made inside a return handler are not
                // followed, and it runs with interrupts masked), but never recurse.
                probe.missed.fetch_add(1, Ordering::Relaxed);
            } else {
                in_handler.store(true, Ordering::Relaxed);
                // SAFETY: this core moved instance i from ACTIVE to RETURNING, or it returns
                // through its stub on this core (see `handle_stub_return`); this is
                // its only view.
                let mut call = unsafe { probe.instance(i) };
                (probe.ret)(probe, &mut call, frame);
                in_handler.store(false, Ordering::Relaxed);
            }
        }
        slot.state.store(FREE, Ordering::Release);
    }
}

#[cfg(target_arch = "arm")]
#[cold]
#[inline(never)]
fn no_call_in_flight(stub: usize) -> ! {
    panic!("kretprobe: return stub {stub} has no call in flight");
}

#[cfg(target_arch = "arm")]
#[cold]
#[inline(never)]
fn wrong_sp(entered: u32, sp: u32) -> ! {
    panic!("kretprobe: a call entered with sp {entered:#010x} returns with sp {sp:#010x}");
}

/// The entry's work on instance `i` (`slot`, CLAIMED by this core): zeroes its private
/// data and runs the entry handler. Returns whether the call is followed; if not, the
/// instance is free again.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(never)]
fn run_entry(probe: &Kretprobe, i: usize, slot: &InstanceSlot, frame: &mut TrapFrame) -> bool {
    // SAFETY: this core moved instance i to CLAIMED (`InstanceSlot::take`); this is its
    // only view.
    let mut call = unsafe { probe.instance(i) };
    call.data_mut().fill(0);
    if let Some(entry) = probe.entry
        && entry(probe, &mut call, frame) == OnEntry::Decline
    {
        slot.state.store(FREE, Ordering::Release);
        probe.unfollowed.fetch_add(1, Ordering::Release);
        return false;
    }
    true
}

/// The return stub of instance `i` of `probe`, if it has one: on ARM every registered
/// probe has stubs (its table entry is below MAX_KRETPROBES) for its first
/// [`STUBS_PER_ENTRY`](crate::arch::kretprobe::STUBS_PER_ENTRY) instances; on the host
/// none.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(always)]
fn stub_of(probe: &Kretprobe, i: usize) -> Option<usize> {
    #[cfg(target_arch = "arm")]
    {
        (i < crate::arch::kretprobe::STUBS_PER_ENTRY)
            .then(|| probe.stubs.load(Ordering::Relaxed) + 4 * i)
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let _ = (probe, i);
        None
    }
}

/// The pre handler of every return probe's entry [`Kprobe`].
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(super) fn entry_hook(kprobe: &Kprobe, frame: &mut TrapFrame) {
    let probe = Kretprobe::from_entry_kprobe(kprobe);
    // Relaxed: `register` stored the table before arming the entry probe, and this hook
    // runs only through that armed probe, whose publication ordered the store before it.
    let table = probe.table.load(Ordering::Relaxed);
    // SAFETY: `table` is NO_TABLE's header or was set from `Kretprobes::header` of a
    // `&'static Kretprobes<P>` by its `register`; either header holds its own functions.
    unsafe { ((*table).enter)(probe, frame, table) }
}

/// Called by the return trampoline ([`crate::arch::kretprobe`], by symbol) with the frame it saved.
#[cfg(target_arch = "arm")]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.kretprobe_return")]
extern "C" fn armv7_kprobes_kretprobe_return(frame: &mut TrapFrame) {
    return_path(frame);
}
