//! The test kernel as the crate's platform seam sees it: its cores and their IPI
//! ([`QemuCpus`]); masking and the linked ranges come with the crate's `LinkedPlatform`.

use crate::board::{BOARD, TEXT_ALIAS};
use crate::{cpu, irq};
use armv7_kprobes::{CpuIndexSource, CpuSet, Cpus, LinkedPlatform};

/// The IPI the crate's rendezvous uses.
pub const IPI_KPROBES: u32 = 1;

/// The cores of the QEMU boards: MPIDR numbering, the online set `smp` keeps, the
/// board's IPI (`irq`: a GIC SGI or a BCM2836 mailbox).
pub struct QemuCpus;

/// The QEMU boards, as the crate sees them.
pub type QemuPlatform = LinkedPlatform<QemuCpus>;

/// The platform instance. Text and slots (the RX region, from the image base) are written
/// through their read-write alias at `TEXT_ALIAS` (see `mmu`).
pub static PLATFORM: QemuPlatform =
    LinkedPlatform::with_cpus_and_text_alias_offset(QemuCpus, TEXT_ALIAS - BOARD.image_base);

impl Cpus for QemuCpus {
    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn cpu_id(&self) -> usize {
        cpu::cpu_id()
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(cpu::online_mask())
    }

    fn send_ipi(&self, targets: CpuSet) {
        irq::send_ipi(IPI_KPROBES, targets.bits());
    }

    /// `cpu_id` is MPIDR.Aff0: optimized probes' trampolines read it themselves.
    fn cpu_index_register(&self) -> CpuIndexSource {
        CpuIndexSource::MpidrAff0
    }
}
