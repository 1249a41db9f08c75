//! The MMU as real kernels run it: identity-mapped RAM (Normal, cacheable), MMIO as
//! Device, text read-only and executable, and a writable never-executable alias of text.
//!
//! One short-descriptor level-1 table of 1 MiB sections serves every core. Core 0 fills
//! it with the MMU still off (so the table is in memory, not only in a cache); each
//! core then points TTBR0 at it and turns on the MMU and caches.

use crate::board::{BOARD, RAM_SIZE, TEXT_ALIAS};
use core::ptr::addr_of;

const MIB: usize = 1 << 20;
const SECTION: u32 = 0b10;
const B: u32 = 1 << 2;
const C: u32 = 1 << 3;
const XN: u32 = 1 << 4;
const AP_PL1_RW: u32 = 0b01 << 10;
const AP_PL1_RO: u32 = (0b01 << 10) | (1 << 15);
const TEX_001: u32 = 0b001 << 12;
const SHAREABLE: u32 = 1 << 16;

/// Normal memory, write-back write-allocate, inner and outer; shareable between cores.
const NORMAL: u32 = TEX_001 | C | B | SHAREABLE;
/// Shareable Device memory.
const DEVICE: u32 = B;

#[repr(C, align(16384))]
struct L1Table([u32; 4096]);

static mut TABLE: L1Table = L1Table([0; 4096]);

unsafe extern "C" {
    static __rx_start: u8;
    static __rx_end: u8;
    static __ro_start: u8;
    static __ro_end: u8;
    static __lab_start: u8;
    static __lab_end: u8;
}

/// The RX region (text + slots) as an address range.
pub fn rx_region() -> core::ops::Range<usize> {
    addr_of!(__rx_start) as usize..addr_of!(__rx_end) as usize
}

/// The test-only read-write-execute laboratory (see link.ld).
pub fn lab_region() -> core::ops::Range<usize> {
    addr_of!(__lab_start) as usize..addr_of!(__lab_end) as usize
}

fn ro_region() -> core::ops::Range<usize> {
    addr_of!(__ro_start) as usize..addr_of!(__ro_end) as usize
}

/// The descriptor the table holds for the 1 MiB section at virtual address `va`
/// (0 means unmapped). Pure, so the policy is readable in one place.
fn descriptor(va: usize) -> u32 {
    let rx = rx_region();
    let ro = ro_region();
    // From the image's base: below it (raspi2b's first MiB) stays unmapped.
    let ram = BOARD.image_base..BOARD.ram_base + RAM_SIZE;
    let alias = TEXT_ALIAS..TEXT_ALIAS + rx.len();
    if rx.contains(&va) {
        va as u32 | SECTION | NORMAL | AP_PL1_RO
    } else if ro.contains(&va) {
        va as u32 | SECTION | NORMAL | AP_PL1_RO | XN
    } else if lab_region().contains(&va) {
        va as u32 | SECTION | NORMAL | AP_PL1_RW
    } else if ram.contains(&va) {
        va as u32 | SECTION | NORMAL | AP_PL1_RW | XN
    } else if alias.contains(&va) {
        let pa = va - TEXT_ALIAS + rx.start;
        pa as u32 | SECTION | NORMAL | AP_PL1_RW | XN
    } else if BOARD.mmio.iter().any(|&(s, e)| (s..e).contains(&va)) {
        va as u32 | SECTION | DEVICE | AP_PL1_RW | XN
    } else {
        0
    }
}

/// Fills the table. Core 0, once, before any core enables its MMU.
pub fn build_table() {
    // The platform writes text at `addr + (TEXT_ALIAS - image base)`: the RX region
    // must start at the image's base, as link.ld places it.
    assert_eq!(
        rx_region().start,
        BOARD.image_base,
        "link.ld: the RX region starts at IMAGE_BASE"
    );
    for i in 0..4096 {
        let d = descriptor(i * MIB);
        // SAFETY: runs once on core 0 before any other core runs Rust code or reads
        // TABLE (secondaries are parked or powered off), so the write is exclusive.
        unsafe { (*core::ptr::addr_of_mut!(TABLE)).0[i] = d };
    }
}

/// Turns on the MMU, the caches and branch prediction on the calling core.
///
/// Never-probe: a secondary runs it before it is online (before a rendezvous parks it).
///
/// No D-cache invalidation by set/way comes first: the Cortex-A15 invalidates its L1
/// and L2 caches in hardware at reset (unless L2RSTDISABLE is tied high, which a board
/// that does so must handle in its own boot code).
#[unsafe(link_section = ".text.noprobe.mmu")]
pub fn enable() {
    // SAFETY: TABLE is fully built (build_table ran on core 0 before any core gets
    // here) and identity-maps all code and data this core is using, so turning the
    // MMU on changes no address the core is executing from or using. The sequence
    // is the ARMv7 one: invalidate TLBs, I-cache and predictors, program TTBCR (short
    // descriptors, TTBR0 only), TTBR0 (walks non-cacheable: the table is only ever
    // written with caches off), DACR (domain 0 = client, permissions checked), set
    // ACTLR.SMP so this core joins coherency before its D-cache is on, then SCTLR
    // M|C|Z|I with barriers. No memory operands beyond the named registers.
    unsafe {
        let table = addr_of!(TABLE) as u32;
        core::arch::asm!(
            "mov {t}, #0",
            "mcr p15, 0, {t}, c8, c7, 0",   // TLBIALL
            "mcr p15, 0, {t}, c7, c5, 0",   // ICIALLU
            "mcr p15, 0, {t}, c7, c5, 6",   // BPIALL
            "mcr p15, 0, {t}, c2, c0, 2",   // TTBCR = 0
            "mcr p15, 0, {tt}, c2, c0, 0",  // TTBR0
            "mov {t}, #1",
            "mcr p15, 0, {t}, c3, c0, 0",   // DACR: domain 0 client
            "mrc p15, 0, {t}, c1, c0, 1",   // ACTLR
            "orr {t}, {t}, #(1 << 6)",      // SMP
            "mcr p15, 0, {t}, c1, c0, 1",
            "dsb",
            "isb",
            "mrc p15, 0, {t}, c1, c0, 0",   // SCTLR
            "bic {t}, {t}, #(1 << 28)",     // TRE off: TEX/C/B as written
            "bic {t}, {t}, #(1 << 29)",     // AFE off: AP[0] is a permission bit
            "bic {t}, {t}, #(1 << 1)",      // A off: unaligned Normal accesses allowed
            "orr {t}, {t}, #(1 << 0)",      // M
            "orr {t}, {t}, #(1 << 2)",      // C
            "orr {t}, {t}, #(1 << 11)",     // Z
            "orr {t}, {t}, #(1 << 12)",     // I
            "mcr p15, 0, {t}, c1, c0, 0",
            "isb",
            t = out(reg) _,
            tt = in(reg) table,
            options(nostack, preserves_flags),
        );
    }
}

/// Whether a privileged write to `va` would be allowed by the current translation
/// (ATS1CPW + PAR, no fault taken).
pub fn writable(va: usize) -> bool {
    translate(va, true).is_some()
}

/// Whether a privileged read of `va` translates.
pub fn readable(va: usize) -> bool {
    translate(va, false).is_some()
}

/// Whether the section holding `va` is marked execute-never.
pub fn execute_never(va: usize) -> bool {
    // SAFETY: reading our own table; it is never modified after build_table.
    let d = unsafe { (*addr_of!(TABLE)).0[va / MIB] };
    d & XN != 0
}

fn translate(va: usize, write: bool) -> Option<u32> {
    let par: u32;
    // SAFETY: ATS1CPR/ATS1CPW only perform a stage-1 translation and write PAR; they
    // access no memory and raise no fault. The ISB makes PAR's new value visible.
    unsafe {
        if write {
            core::arch::asm!("mcr p15, 0, {va}, c7, c8, 1", "isb", "mrc p15, 0, {par}, c7, c4, 0",
                va = in(reg) va, par = out(reg) par, options(nostack, preserves_flags));
        } else {
            core::arch::asm!("mcr p15, 0, {va}, c7, c8, 0", "isb", "mrc p15, 0, {par}, c7, c4, 0",
                va = in(reg) va, par = out(reg) par, options(nostack, preserves_flags));
        }
    }
    if par & 1 == 0 {
        Some((par & !0xfff) | (va as u32 & 0xfff))
    } else {
        None
    }
}
