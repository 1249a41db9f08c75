//! Draining: every CPU's ring into one capture, entries expanded back into records.

use super::*;

/// What one [`Events::drain`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Record frames.
    pub records: u64,
    /// The sum of the `Dropped` frames' counts.
    pub dropped: u64,
    /// Event frames.
    pub events: usize,
}

impl<T: EventPlatform, const E: usize, const CPUS: usize, const WORDS: usize, P: Overflow + 'static>
    Events<T, E, CPUS, WORDS, P>
{
    /// Writes one capture into `sink`: the header (timer frequency, `CPUS`), every
    /// defined event, every CPU's records in order, what each CPU lost since the last
    /// capture, and the end. Events keep firing meanwhile: their records after a CPU's
    /// ring was emptied go into the next capture.
    ///
    /// # Errors
    /// [`EventsError::Busy`] when a definition or another drain is running.
    pub fn drain(&self, sink: &mut impl CaptureSink) -> Result<DrainReport, EventsError> {
        let _claim = self.claim()?;
        let mut out = CaptureWriter::new(|b: &[u8]| sink.write(b));
        let mut report = DrainReport::default();
        out.header(&CaptureHeader {
            timer_hz: self.platform.frequency(),
            cpus: CPUS.min(usize::from(u8::MAX)) as u8,
        });
        for (id, slot) in self.slots.iter().enumerate() {
            if slot.state.load(Ordering::Acquire) == LIVE {
                // SAFETY: under the claim.
                let config = unsafe { &*slot.config.get() };
                write_event(&mut out, id as u16, config);
                report.events += 1;
            }
        }
        for (cpu, ring) in self.rings.iter().enumerate() {
            let mut stale = 0;
            if let Some(mut drain) = ring.drain() {
                while let Some(entry) = drain.pop() {
                    match self.expand(cpu as u8, &entry) {
                        Some(record) => {
                            out.record(&record);
                            report.records += 1;
                        }
                        None => stale += 1,
                    }
                }
            }
            // SAFETY: under the claim.
            let reported = unsafe { &mut (*self.reported_lost.get())[cpu] };
            let lost = ring.dropped();
            let count = lost - *reported + stale;
            *reported = lost;
            out.dropped(cpu as u8, count);
            report.dropped += count;
        }
        out.end();
        Ok(report)
    }

    /// The record an entry of CPU `cpu` stands for, or `None` when its event was removed
    /// (or redefined) since.
    fn expand(&self, cpu: u8, entry: &Entry) -> Option<Record> {
        let id = entry.tag & ((1 << ID_BITS) - 1);
        let flags = (entry.tag >> ID_BITS) & 0xf;
        let generation = (entry.tag >> GENERATION_SHIFT) as u8;
        let slot = self.slots.get(id as usize)?;
        if slot.state.load(Ordering::Acquire) != LIVE {
            return None;
        }
        // SAFETY: under the claim (`drain` holds it).
        let config = unsafe { &*slot.config.get() };
        if config.generation != generation {
            return None;
        }
        let mut body = BodyReader(entry.body());
        let next = |w: &mut BodyReader<'_>| w.next();
        let pair = |w: &mut BodyReader<'_>| u64::from(w.next()) | u64::from(w.next()) << 32;
        let mut record = Record {
            timestamp: pair(&mut body),
            event: id as u16,
            cpu,
            ..Record::default()
        };
        if flags & FLAG_RETURN != 0 {
            record.entry_timestamp = pair(&mut body);
            record.flags = Record::RETURN;
        }
        if flags & FLAG_STATUS != 0 {
            let status = next(&mut body);
            record.faults = status as u8;
            record.truncated = (status >> 8) as u8;
        }
        for &(words, first) in &config.layout[..usize::from(config.arg_count)] {
            let first = usize::from(first);
            match words {
                ArgWords::Word { bits } => {
                    let w = next(&mut body);
                    record.values[first] =
                        u64::from(if bits >= 32 { w } else { w & ((1 << bits) - 1) });
                }
                ArgWords::Pair => record.values[first] = pair(&mut body),
                ArgWords::String => {
                    for v in &mut record.values[first..first + STRING_SLOTS] {
                        *v = pair(&mut body);
                    }
                }
                ArgWords::Cpu => record.values[first] = u64::from(cpu),
            }
        }
        Some(record)
    }
}

/// An entry's body, word by word (0 past its end).
struct BodyReader<'b>(&'b [u32]);

impl BodyReader<'_> {
    fn next(&mut self) -> u32 {
        match self.0.split_first() {
            Some((&w, rest)) => {
                self.0 = rest;
                w
            }
            None => 0,
        }
    }
}

/// The event frame of a defined event (its line parsed again: the capture describes it
/// as the definition did).
#[inline(never)]
fn write_event<S: CaptureSink>(out: &mut CaptureWriter<S>, id: u16, config: &SlotConfig) {
    if let Ok(Definition::Event(event)) = definition::parse(config.line()) {
        out.event(id, &event);
    }
}
