//! The hit paths: an entry event's pre handler (one per register-word count, and the
//! general one), a return event's entry and return handlers, and the general recording
//! with memory fetches.

use super::*;

impl<T: EventPlatform, const E: usize, const CPUS: usize, const WORDS: usize, P: Overflow + 'static>
    Events<T, E, CPUS, WORDS, P>
{
    /// The slot whose entry probe is `kprobe`.
    ///
    /// # Safety
    /// `kprobe` must be a slot's `kprobe` field (the slot's first: `repr(C)`) of a
    /// `'static` table whose provenance `define` exposed: every Kprobe whose handler calls
    /// this is one (`add` makes them there and registers them after exposing the table).
    #[inline(always)]
    pub(super) unsafe fn slot_of(kprobe: &Kprobe) -> &'static EventSlot {
        // SAFETY: by the contract, the address is a live slot's, with exposed provenance
        // over the whole table; only shared references are made from it.
        unsafe {
            &*core::ptr::with_exposed_provenance::<EventSlot>(core::ptr::from_ref(kprobe).addr())
        }
    }

    /// The table of `slot`.
    #[inline(always)]
    pub(super) fn table_of(slot: &EventSlot) -> &'static Self {
        // SAFETY: `define` stores the address of its `'static` table (whose provenance it
        // exposed) before registering the slot's probe, the only way a hit reaches here.
        unsafe { &*core::ptr::with_exposed_provenance::<Self>(slot.table.load(Ordering::Relaxed)) }
    }

    /// An entry event whose body is the timestamp and `K` frame words.
    pub(super) fn hit_registers<const K: usize>(kprobe: &Kprobe, frame: &mut TrapFrame) {
        // SAFETY: see `slot_of`: this is the pre handler of slots' entry probes only.
        let slot = unsafe { Self::slot_of(kprobe) };
        let table = Self::table_of(slot);
        // SAFETY: a hit reads the configuration of a registered slot, which nothing
        // writes while it is registered (see the Sync impl).
        let plan = &unsafe { &*slot.config.get() }.plan;
        let Some(ring) = table.ring_addrs.get(table.platform.cpu_id()) else {
            table.stray_hits.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // SAFETY: `add` stores the address of this table's ring of each CPU (the table's
        // provenance is exposed) before registering any probe.
        let ring = unsafe {
            &*core::ptr::with_exposed_provenance::<TraceRing<WORDS, P>>(
                ring.load(Ordering::Relaxed),
            )
        };
        let now = table.platform.now();
        let w = |i: usize| {
            // SAFETY: `compile` writes frame word indices below 17 only, and `K` below
            // their count.
            unsafe { frame.reg_unchecked(usize::from(*plan.frame_words.get_unchecked(i))) }
        };
        let (lo, hi) = (now as u32, (now >> 32) as u32);
        let pushed = match K {
            0 => ring.push_fast(plan.header, [lo, hi]),
            1 => ring.push_fast(plan.header, [lo, hi, w(0)]),
            2 => ring.push_fast(plan.header, [lo, hi, w(0), w(1)]),
            3 => ring.push_fast(plan.header, [lo, hi, w(0), w(1), w(2)]),
            _ => ring.push_fast(plan.header, [lo, hi, w(0), w(1), w(2), w(3)]),
        };
        if !pushed {
            // Padding or a full ring: the body is made again, off the hit path.
            Self::push_registers_general(ring, plan, frame, now);
        }
    }

    /// A registers-only entry event's hit that needs the ring's general path.
    #[cold]
    #[inline(never)]
    pub(super) fn push_registers_general(
        ring: &TraceRing<WORDS, P>,
        plan: &HitPlan,
        frame: &TrapFrame,
        now: u64,
    ) {
        let mut body = [0u32; 2 + 2 * MAX_FETCH_ARGS];
        body[0] = now as u32;
        body[1] = (now >> 32) as u32;
        let words = &plan.frame_words[..usize::from(plan.frame_word_count)];
        for (b, &i) in body[2..].iter_mut().zip(words) {
            *b = frame.reg(usize::from(i));
        }
        ring.push_slice(plan.tag, &body[..2 + words.len()]);
    }

    /// Any other entry event.
    pub(super) fn hit_general(kprobe: &Kprobe, frame: &mut TrapFrame) {
        // SAFETY: see `slot_of`: this is the pre handler of slots' entry probes only.
        let slot = unsafe { Self::slot_of(kprobe) };
        Self::table_of(slot).record(slot, frame, None);
    }

    /// A return event's entry handler: keeps the entry timestamp in the instance.
    pub(super) fn on_call(
        probe: &Kretprobe,
        call: &mut KretprobeInstance<'_>,
        _: &mut TrapFrame,
    ) -> OnEntry {
        let table = Self::table_of(Self::slot_of_kretprobe(probe));
        let now = table.platform.now();
        if let Some(data) = call.data_mut().get_mut(..8) {
            data.copy_from_slice(&now.to_ne_bytes());
        }
        OnEntry::Track
    }

    /// A return event's return handler.
    pub(super) fn on_return(
        probe: &Kretprobe,
        call: &mut KretprobeInstance<'_>,
        frame: &mut TrapFrame,
    ) {
        let slot = Self::slot_of_kretprobe(probe);
        let mut entry = [0u8; 8];
        if let Some(data) = call.data().get(..8) {
            entry.copy_from_slice(data);
        }
        Self::table_of(slot).record(slot, frame, Some(u64::from_ne_bytes(entry)));
    }

    /// The slot whose return probe is `probe`.
    #[inline(always)]
    pub(super) fn slot_of_kretprobe(probe: &Kretprobe) -> &'static EventSlot {
        let at = core::ptr::from_ref(probe).addr() - core::mem::offset_of!(EventSlot, kretprobe);
        // SAFETY: only `make_kretprobe` makes a Kretprobe with these handlers, in a slot's
        // `kretprobe` field (an UnsafeCell of MaybeUninit: the same address), of a
        // `'static` table whose provenance `define` exposed before registering it.
        unsafe { &*core::ptr::with_exposed_provenance::<EventSlot>(at) }
    }

    /// Records a hit of the event in `slot` (entry timestamp `entry` for a return
    /// event) into this CPU's ring.
    pub(super) fn record(&self, slot: &EventSlot, frame: &TrapFrame, entry: Option<u64>) {
        // SAFETY: a hit reads the configuration of a registered slot, which nothing
        // writes while it is registered (see the Sync impl).
        let config = unsafe { &*slot.config.get() };
        let Some(ring) = self.rings.get(self.platform.cpu_id()) else {
            self.stray_hits.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let now = self.platform.now();
        self.record_general(ring, config, frame, now, entry);
    }

    /// Every hit but a registers-only entry event's: a return event, a memory fetch.
    pub(super) fn record_general(
        &self,
        ring: &TraceRing<WORDS, P>,
        config: &SlotConfig,
        frame: &TrapFrame,
        now: u64,
        entry: Option<u64>,
    ) -> bool {
        let plan = &config.plan;
        let mut body = [0u32; MAX_BODY];
        let mut n = 0;
        let mut put = |w: u32| {
            if let Some(slot) = body.get_mut(n) {
                *slot = w;
            }
            n += 1;
        };
        put(now as u32);
        put((now >> 32) as u32);
        if let Some(entry) = entry {
            put(entry as u32);
            put((entry >> 32) as u32);
        }
        if plan.registers_only {
            for &i in &plan.frame_words[..usize::from(plan.frame_word_count)] {
                // SAFETY: `compile` writes frame word indices below 17 only.
                put(unsafe { frame.reg_unchecked(usize::from(i)) });
            }
        } else {
            let values = self.fetch_general(config, frame);
            put(u32::from(values.faults) | u32::from(values.truncated) << 8);
            for &(words, first) in &config.layout[..usize::from(config.arg_count)] {
                let first = usize::from(first);
                let count = match words {
                    ArgWords::Word { .. } => {
                        put(values.values[first] as u32);
                        0
                    }
                    ArgWords::Pair => 1,
                    ArgWords::String => STRING_SLOTS,
                    ArgWords::Cpu => 0,
                };
                for v in &values.values[first..first + count] {
                    put(*v as u32);
                    put((*v >> 32) as u32);
                }
            }
        }
        ring.push_slice(plan.tag, &body[..n.min(MAX_BODY)])
    }

    /// The arguments of an event with a memory fetch, through the platform's reads.
    #[inline(never)]
    pub(super) fn fetch_general(&self, config: &SlotConfig, frame: &TrapFrame) -> Record {
        let mut record = Record::default();
        let ctx = FetchContext {
            frame,
            cpu: self.platform.cpu_id() as u8,
        };
        fetch_arg_list(
            config.kind,
            &config.args[..usize::from(config.arg_count)],
            &ctx,
            &mut PlatformMemory(self.platform),
            &mut record,
        );
        record
    }
}
