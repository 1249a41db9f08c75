//! The one primitive that writes kernel text: aligned word store plus cache maintenance.
//!
//! Nothing else in the crate writes instructions. A [`TextPatcher`] writes each word
//! through the platform's writable view of text ([`Platform::text_alias`]) as a single
//! aligned store, then makes it visible to instruction fetch on the *executable*
//! address. Thumb code is a stream of halfwords, and a 32-bit Thumb instruction at an
//! address that is 2 mod 4 straddles two words: [`TextPatcher::patch_halfwords`] writes
//! halfwords, each as a read-modify-write of its whole word inside the rendezvous
//! (every CPU parked, the other half unchanged), with the same maintenance on every
//! word it touches:
//!
//! ```text
//! store; DCCMVAU; DSB ISH; ICIMVAU; BPIALLIS; DSB ISH; ISB
//! ```
//!
//! (a batch stores and cleans every word, then one DSB, then invalidates every line,
//! then one branch-predictor invalidation, DSB and ISB), and the rendezvous adds an ISB
//! on every CPU before it leaves.
//!
//! # When maintenance is not broadcast
//!
//! [`TextPatcher::new`] reads ID_MMFR3 once. Where maintenance is broadcast (every
//! ARMv7 SMP part with the Multiprocessing Extensions, including QEMU's Cortex-A15),
//! the write and maintenance run on the initiating CPU only and reach the others.
//! Where it is not, they run on **every** CPU: each CPU stores the same words (the
//! stores are idempotent, so concurrent identical stores are harmless) and maintains
//! its own caches, with BPIALL instead of BPIALLIS, which only the Multiprocessing
//! Extensions define, and also invalidates its whole instruction cache (ICIALLU), so
//! slot words written beforehand on one CPU ([`TextPatcher::write_unpublished`]) are
//! fetched anew everywhere once a branch to them is published.
//!
//! # Rules the callback keeps
//!
//! The rendezvous callback here only stores words and maintains caches. Probe tables
//! and lists are updated by the callers, before or after [`TextPatcher::patch_batch`],
//! never inside it and never on several CPUs at once. The words to write are validated
//! before the rendezvous starts, so a bad address is an error, not a fault with every
//! CPU parked.
//!
//! # The fast path
//!
//! The ARM ARM (ARMv7 A3.5.4, "concurrent modification and execution of
//! instructions") lets a word that another CPU may be executing change without
//! stopping it only between certain instructions. [`TextPatcher::patch_live_branch`]
//! allows exactly B ↔ B with the same condition and B ↔ NOP, does the same
//! maintenance on the calling CPU only, and stops no one. Anything else (original ↔
//! breakpoint ↔ `b`) must use [`TextPatcher::patch`] or
//! [`TextPatcher::patch_batch`].

use crate::cache::CacheOps;
use crate::hex::Hex;
use crate::insn::{Cond, Insn};
use crate::platform::Platform;
use crate::stop_machine::{Rendezvous, RendezvousError, RendezvousWork, RunOn};
use core::fmt;
use core::ops::Range;
use core::sync::atomic::{AtomicU32, Ordering};

/// Why a text write was refused. Nothing was written when one of these is returned.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchError {
    /// The address is not 4-byte aligned.
    Misaligned {
        /// The address given.
        addr: usize,
    },
    /// The word is neither in [`Platform::kernel_text`] nor in
    /// [`Platform::slot_region`].
    OutsideText {
        /// The address given.
        addr: usize,
    },
    /// A batch names the same address twice. Refused because where every CPU writes
    /// the batch, their interleaving would decide which word wins.
    DuplicateAddress {
        /// The address named more than once.
        addr: usize,
    },
    /// A halfword write's address is odd: Thumb instructions are halfword aligned.
    MisalignedHalfword {
        /// The address given.
        addr: usize,
    },
    /// The fast path was asked for a change the architecture does not allow while
    /// another CPU may be executing the word (only B ↔ B with the same condition and
    /// B ↔ NOP are).
    NotLiveModifiable {
        /// The address.
        addr: usize,
        /// The word there now.
        old: u32,
        /// The word asked for.
        new: u32,
    },
    /// The rendezvous (or the patch lock) refused to start.
    Rendezvous(RendezvousError),
    /// [`TextPatcher::write_unpublished`] was given a word outside the slot region.
    NotSlotMemory {
        /// The address given.
        addr: usize,
    },
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchError::Misaligned { addr } => {
                write!(f, "text address {addr:#x} is not word aligned")
            }
            PatchError::OutsideText { addr } => write!(
                f,
                "address {addr:#x} is neither kernel text nor slot memory"
            ),
            PatchError::MisalignedHalfword { addr } => {
                write!(f, "text address {addr:#x} is not halfword aligned")
            }
            PatchError::DuplicateAddress { addr } => {
                write!(f, "the batch writes {addr:#x} more than once")
            }
            PatchError::NotLiveModifiable { addr, old, new } => write!(
                f,
                "{old:#010x} -> {new:#010x} at {addr:#x} is not a live-modifiable \
                 change (only B <-> B with the same condition, B <-> NOP)"
            ),
            PatchError::Rendezvous(e) => write!(f, "text patch not started: {e}"),
            PatchError::NotSlotMemory { addr } => {
                write!(f, "address {addr:#x} is not in the instruction-slot region")
            }
        }
    }
}

impl fmt::Debug for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr_only = |f: &mut fmt::Formatter<'_>, name: &str, addr: usize| {
            f.debug_struct(name).field("addr", &Hex(addr)).finish()
        };
        match *self {
            PatchError::Misaligned { addr } => addr_only(f, "Misaligned", addr),
            PatchError::OutsideText { addr } => addr_only(f, "OutsideText", addr),
            PatchError::MisalignedHalfword { addr } => addr_only(f, "MisalignedHalfword", addr),
            PatchError::DuplicateAddress { addr } => addr_only(f, "DuplicateAddress", addr),
            PatchError::NotLiveModifiable { addr, old, new } => f
                .debug_struct("NotLiveModifiable")
                .field("addr", &Hex(addr))
                .field("old", &Hex(old))
                .field("new", &Hex(new))
                .finish(),
            PatchError::Rendezvous(e) => f.debug_tuple("Rendezvous").field(&e).finish(),
            PatchError::NotSlotMemory { addr } => addr_only(f, "NotSlotMemory", addr),
        }
    }
}

impl core::error::Error for PatchError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PatchError::Rendezvous(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RendezvousError> for PatchError {
    fn from(e: RendezvousError) -> Self {
        PatchError::Rendezvous(e)
    }
}

/// Writes kernel text and slot memory, through the rendezvous when another CPU may be
/// executing the words.
pub struct TextPatcher<'a, P: Platform + ?Sized, C: CacheOps> {
    rendezvous: &'a Rendezvous<C>,
    platform: &'a P,
    broadcast: bool,
}

impl<'a, P: Platform + ?Sized, C: CacheOps> TextPatcher<'a, P, C> {
    /// A patcher using `rendezvous` (and its cache operations) on `platform`. Reads
    /// ID_MMFR3 here, once, to learn whether cache maintenance is broadcast.
    pub fn new(rendezvous: &'a Rendezvous<C>, platform: &'a P) -> Self {
        let broadcast = rendezvous.cache_ops().maintenance_is_broadcast();
        TextPatcher {
            rendezvous,
            platform,
            broadcast,
        }
    }

    /// Whether cache maintenance by one CPU reaches all (read by [`TextPatcher::new`]).
    pub fn maintenance_is_broadcast(&self) -> bool {
        self.broadcast
    }

    /// Writes `word` at executable address `addr` while every CPU is parked in the
    /// rendezvous. Safe for any old and new instruction.
    ///
    /// # Errors
    ///
    /// As [`TextPatcher::patch_batch`].
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn patch(&self, addr: usize, word: u32) -> Result<(), PatchError> {
        self.patch_batch(&[(addr, word)])
    }

    /// Writes every `(address, word)` pair in one rendezvous. Nothing is written unless
    /// every address is valid and distinct; an empty batch starts no rendezvous.
    ///
    /// # Errors
    ///
    /// [`PatchError::Misaligned`] or [`PatchError::OutsideText`] for an address that is
    /// not a word of kernel text or the slot region, [`PatchError::DuplicateAddress`]
    /// when the batch names one twice, [`PatchError::Rendezvous`] when the rendezvous
    /// refused to start (e.g. called with IRQs masked or from a callback). Nothing was
    /// written then.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn patch_batch(&self, words: &[(usize, u32)]) -> Result<(), PatchError> {
        for (i, &(addr, _)) in words.iter().enumerate() {
            self.check_address(addr)?;
            for &(earlier, _) in &words[..i] {
                if earlier == addr {
                    return Err(PatchError::DuplicateAddress { addr });
                }
            }
        }
        if words.is_empty() {
            return Ok(());
        }
        let on = if self.broadcast {
            RunOn::OneCpu(self.platform.cpu_id())
        } else {
            RunOn::AllCpus
        };
        self.publish(on, &words)
    }

    /// Writes every `(address, halfword)` pair in one rendezvous: Thumb code, where an
    /// instruction is one halfword or two (the first at the lower address) and a 32-bit
    /// one at an address that is 2 mod 4 lies across two words. Each halfword is merged
    /// into its word while every CPU is parked, so the other half — another instruction,
    /// possibly another probe's — keeps whatever it holds then; every word touched gets
    /// the full maintenance sequence. Nothing is written unless every address is valid
    /// and distinct; an empty batch starts no rendezvous.
    ///
    /// # Errors
    ///
    /// [`PatchError::MisalignedHalfword`] for an odd address, [`PatchError::OutsideText`]
    /// for a halfword outside kernel text and the slot region,
    /// [`PatchError::DuplicateAddress`] when the batch names one twice,
    /// [`PatchError::Rendezvous`] as for [`TextPatcher::patch_batch`]. Nothing was
    /// written then.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn patch_halfwords(&self, halfwords: &[(usize, u16)]) -> Result<(), PatchError> {
        for (i, &(addr, _)) in halfwords.iter().enumerate() {
            if !addr.is_multiple_of(2) {
                return Err(PatchError::MisalignedHalfword { addr });
            }
            self.check_address(addr & !3)
                .map_err(|_| PatchError::OutsideText { addr })?;
            for &(earlier, _) in &halfwords[..i] {
                if earlier == addr {
                    return Err(PatchError::DuplicateAddress { addr });
                }
            }
        }
        if halfwords.is_empty() {
            return Ok(());
        }
        let on = if self.broadcast {
            RunOn::OneCpu(self.platform.cpu_id())
        } else {
            RunOn::AllCpus
        };
        self.publish(
            on,
            &Halfwords {
                platform: self.platform,
                halfwords,
            },
        )
    }

    /// [`TextPatcher::patch_batch`] for the crate's own batches, whose addresses are
    /// distinct by construction (probe sites): every address is checked, duplicates are
    /// not looked for, and the words come from `source` (read once on each CPU that runs
    /// the write), so a batch needs no buffer.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    #[cfg_attr(all(test, loom), allow(dead_code))] // the registry is not in the loom build
    pub(crate) fn patch_distinct(&self, source: &dyn WordSource) -> Result<(), PatchError> {
        let mut bad = None;
        let mut any = false;
        source.each(&mut |addr, _| {
            any = true;
            if bad.is_none() {
                bad = self.check_address(addr).err();
            }
        });
        if let Some(e) = bad {
            return Err(e);
        }
        if !any {
            return Ok(());
        }
        let on = if self.broadcast {
            RunOn::OneCpu(self.platform.cpu_id())
        } else {
            RunOn::AllCpus
        };
        self.publish(on, source)
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn publish(&self, on: RunOn, source: &dyn WordSource) -> Result<(), PatchError> {
        let work = WriteWork {
            cache: self.rendezvous.cache_ops(),
            platform: self.platform,
            words: source,
            broadcast: self.broadcast,
        };
        self.rendezvous.run_work(self.platform, on, &work)?;
        Ok(())
    }

    /// Writes `words` from `addr` on, in the platform's slot region, where no CPU is
    /// executing or can start executing (a slot no text branches to yet), with the
    /// code-write maintenance on the calling CPU and no rendezvous. Other CPUs see the
    /// words once a later [`TextPatcher::patch_batch`] publishes a branch to them: where
    /// maintenance is broadcast, this CPU's maintenance already reached them; where it is
    /// not, every CPU invalidates its whole instruction cache in that rendezvous.
    ///
    /// # Errors
    ///
    /// [`PatchError::Misaligned`] or [`PatchError::NotSlotMemory`] for a word that is
    /// not an aligned word of the slot region; nothing was written then.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn write_unpublished(&self, addr: usize, words: &[u32]) -> Result<(), PatchError> {
        let region = self.platform.slot_region();
        for i in 0..words.len() {
            let a = addr.wrapping_add(4 * i);
            if !a.is_multiple_of(4) {
                return Err(PatchError::Misaligned { addr: a });
            }
            if !holds_word(region.clone(), a) {
                return Err(PatchError::NotSlotMemory { addr: a });
            }
        }
        write_run_and_maintain(
            self.rendezvous.cache_ops(),
            self.platform,
            addr,
            words,
            self.broadcast,
        );
        Ok(())
    }

    /// The fast path: rewrites a word another CPU may be executing without stopping
    /// it, when the architecture allows that — B ↔ B with the same condition, or
    /// B ↔ NOP. Does the full maintenance sequence on this CPU. A CPU executing the
    /// word meanwhile runs the old or the new instruction, never a mix, and the new one
    /// at the latest after its next context synchronization (exception entry or return,
    /// ISB). Serialized with every other text write (it takes the initiator lock, so
    /// the old word it checks is the one it replaces).
    ///
    /// Where maintenance is not broadcast, one CPU's maintenance cannot reach the
    /// others, so this falls back to a full rendezvous ([`TextPatcher::patch`]) after
    /// the same check.
    ///
    /// # Errors
    ///
    /// [`PatchError::Misaligned`] or [`PatchError::OutsideText`] as for
    /// [`TextPatcher::patch`], [`PatchError::NotLiveModifiable`] when the change is not
    /// one of the live-modifiable pairs, [`PatchError::Rendezvous`] when the lock or the
    /// fallback rendezvous was refused. Nothing was written then.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn patch_live_branch(&self, addr: usize, word: u32) -> Result<(), PatchError> {
        self.check_address(addr)?;
        if !self.broadcast {
            check_live_modifiable(addr, self.read(addr), word)?;
            return self.patch(addr, word);
        }
        let _exclusive = self.rendezvous.lock_exclusive(self.platform)?;
        check_live_modifiable(addr, self.read(addr), word)?;
        write_and_maintain(
            self.rendezvous.cache_ops(),
            self.platform,
            &&[(addr, word)][..],
            true,
        );
        Ok(())
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn check_address(&self, addr: usize) -> Result<(), PatchError> {
        if !addr.is_multiple_of(4) {
            return Err(PatchError::Misaligned { addr });
        }
        if !holds_word(self.platform.kernel_text(), addr)
            && !holds_word(self.platform.slot_region(), addr)
        {
            return Err(PatchError::OutsideText { addr });
        }
        debug_assert_eq!(
            self.platform.text_alias(addr) as usize % 4,
            0,
            "misaligned text alias"
        );
        Ok(())
    }

    /// The word at a checked address, through its alias.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn read(&self, addr: usize) -> u32 {
        // SAFETY: `addr` passed `check_address`, so `text_alias` gives a valid, aligned
        // view of the word (Platform contract); every write to it goes through
        // `CacheOps::store_text_word`, an atomic store, so an atomic load is race-free.
        unsafe { AtomicU32::from_ptr(self.platform.text_alias(addr)).load(Ordering::Relaxed) }
    }
}

/// Words to write, as `(executable address, word)` pairs: a slice, a list the caller
/// walks (the probe registry's batch), or halfwords merged into their words. `each`
/// runs on the writing CPU inside the rendezvous, so a source may read text there.
pub(crate) trait WordSource: Sync {
    /// Calls `f` on every pair, in the same order every time.
    fn each(&self, f: &mut dyn FnMut(usize, u32));
}

impl WordSource for &[(usize, u32)] {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn each(&self, f: &mut dyn FnMut(usize, u32)) {
        for &(addr, word) in self.iter() {
            f(addr, word);
        }
    }
}

/// Halfword writes as word writes: the halfwords of each word merged into it as it is
/// now (little-endian: the halfword at the lower address is the low half), and stored
/// once. Read inside the rendezvous, with every CPU parked, so the other half is what it
/// stays. Where every CPU writes (non-broadcast), each stores only final words — a word
/// with both its halves in the batch is never stored with one of them new and the other
/// old, a mix (a 32-bit instruction's new hw1 before its old hw2) that a CPU which has
/// already invalidated its caches could fetch — so every read, whoever stored before it,
/// sees the old word or the final one, and merges to the final one. The second walk (the
/// invalidation) only uses the addresses.
struct Halfwords<'a, P: ?Sized> {
    platform: &'a P,
    halfwords: &'a [(usize, u16)],
}

impl<P: Platform + ?Sized> WordSource for Halfwords<'_, P> {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn each(&self, f: &mut dyn FnMut(usize, u32)) {
        let same_word = |a: usize, b: usize| a & !3 == b & !3;
        for (i, &(addr, half)) in self.halfwords.iter().enumerate() {
            if self.halfwords[..i].iter().any(|&(a, _)| same_word(a, addr)) {
                continue; // stored with the first halfword of its word
            }
            let (word_addr, mut word) = merged_halfword(self.platform, addr, half);
            // The word's other half, when the batch has it too (addresses are distinct).
            if let Some(&(other, half)) = self.halfwords[i + 1..]
                .iter()
                .find(|&&(a, _)| same_word(a, addr))
            {
                word = with_halfword(word, other, half);
            }
            f(word_addr, word);
        }
    }
}

/// The word holding the halfword at `addr` (even, in kernel text or slot memory), as it
/// is now with `half` merged in, and its address. For a [`WordSource`] whose pairs are
/// halfwords: read inside the rendezvous, so the other half is what it stays, and the
/// caller stores only final words (see [`Halfwords`]).
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(crate) fn merged_halfword<P: Platform + ?Sized>(
    platform: &P,
    addr: usize,
    half: u16,
) -> (usize, u32) {
    let word_addr = addr & !3;
    // SAFETY: the callers (`patch_halfwords`, and the optimize batch for a registered
    // Thumb site) only name words of text or slot memory, so `text_alias` gives a valid,
    // aligned view of it (Platform contract); every write to it is an atomic store
    // (`CacheOps::store_text_word`), so an atomic load is race-free.
    let old =
        unsafe { AtomicU32::from_ptr(platform.text_alias(word_addr)).load(Ordering::Relaxed) };
    (word_addr, with_halfword(old, addr, half))
}

/// `word` (the one holding the halfword address `addr`) with `half` in `addr`'s half:
/// little-endian, the halfword at the lower address is the low half.
#[inline(always)]
pub(crate) const fn with_halfword(word: u32, addr: usize, half: u16) -> u32 {
    let shift = (addr & 2) * 8;
    (word & !(0xffff << shift)) | ((half as u32) << shift)
}

/// The rendezvous work of [`TextPatcher::patch_batch`] and its relatives.
struct WriteWork<'a, P: ?Sized, C> {
    cache: &'a C,
    platform: &'a P,
    words: &'a dyn WordSource,
    broadcast: bool,
}

impl<P: Platform + ?Sized, C: CacheOps> RendezvousWork for WriteWork<'_, P, C> {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn run_on(&self, _cpu: usize) {
        write_and_maintain(self.cache, self.platform, self.words, self.broadcast);
    }
}

#[inline(always)]
fn holds_word(region: Range<usize>, addr: usize) -> bool {
    match addr.checked_add(4) {
        Some(end) => addr >= region.start && end <= region.end,
        None => false,
    }
}

/// The store and maintenance sequence for `words`, on the calling CPU.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(never)]
fn write_and_maintain<P: Platform + ?Sized, C: CacheOps>(
    cache: &C,
    platform: &P,
    words: &dyn WordSource,
    broadcast: bool,
) {
    words.each(&mut |addr, word| {
        // SAFETY: every address was checked aligned and inside text or slot memory
        // before the rendezvous (or by `write_unpublished`), so `text_alias` gives a
        // valid, aligned, writable view (Platform contract). Concurrent accesses are
        // this same atomic store of the same word by other CPUs (non-broadcast mode),
        // atomic loads (a halfword merge's read), and instruction fetches.
        unsafe { cache.store_text_word(addr, platform.text_alias(addr), word) };
        cache.clean_dcache_line_to_pou(addr);
    });
    cache.dsb_ish();
    words.each(&mut |addr, _| cache.invalidate_icache_line_to_pou(addr));
    finish_code_write(cache, broadcast);
}

/// [`write_and_maintain`] for consecutive words from `addr` on, without the calls
/// through `dyn` per word (a trampoline copy is some fifty words).
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(never)]
fn write_run_and_maintain<P: Platform + ?Sized, C: CacheOps>(
    cache: &C,
    platform: &P,
    addr: usize,
    words: &[u32],
    broadcast: bool,
) {
    let at = |i: usize| addr.wrapping_add(4 * i);
    for (i, &word) in words.iter().enumerate() {
        // SAFETY: as in `write_and_maintain` (`write_unpublished` checked every address).
        unsafe { cache.store_text_word(at(i), platform.text_alias(at(i)), word) };
        cache.clean_dcache_line_to_pou(at(i));
    }
    cache.dsb_ish();
    for i in 0..words.len() {
        cache.invalidate_icache_line_to_pou(at(i));
    }
    finish_code_write(cache, broadcast);
}

/// The end of the maintenance sequence, after every word's lines were invalidated.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
#[inline(always)]
fn finish_code_write<C: CacheOps>(cache: &C, broadcast: bool) {
    if broadcast {
        cache.invalidate_branch_predictors_inner_shareable();
    } else {
        // Slot words written earlier by another CPU (`write_unpublished`) may be stale
        // in this CPU's instruction cache: its line maintenance did not reach here.
        cache.invalidate_icache_all_local();
        cache.invalidate_branch_predictors_local();
    }
    cache.dsb_ish();
    cache.isb();
}

/// `B<c> imm24` (not BL, not the unconditional BLX space).
#[inline(always)]
fn is_branch(word: u32) -> bool {
    Insn(word).cond() != Cond::Unconditional && (word >> 24) & 0xf == 0b1010
}

/// The architectural NOP hint, under any condition but the unconditional space.
#[inline(always)]
fn is_nop(word: u32) -> bool {
    Insn(word).cond() != Cond::Unconditional && word & 0x0fff_ffff == 0x0320_f000
}

#[inline(always)]
fn check_live_modifiable(addr: usize, old: u32, new: u32) -> Result<(), PatchError> {
    let allowed = (is_branch(old) && is_branch(new) && Insn(old).cond() == Insn(new).cond())
        || (is_branch(old) && is_nop(new))
        || (is_nop(old) && is_branch(new));
    if allowed {
        Ok(())
    } else {
        Err(PatchError::NotLiveModifiable { addr, old, new })
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
