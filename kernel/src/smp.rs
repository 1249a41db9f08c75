//! Bringing up the secondary cores on each board and running work on them.
//!
//! Every core enters at `_start` (aarch32-rt). Secondaries wait in
//! `_asm_secondary_core_park` for core 0 to publish `RELEASE` — on vexpress-a15 and
//! raspi2b they are already there at reset; on virt they are powered off and PSCI
//! CPU_ON starts them at `_start` after the release, so they pass straight through.
//! Each then turns on its MMU and its interrupt-controller interface (`irq`), joins the
//! online set through the crate's `cpu_online` hook ([`come_online`]), enables IRQs
//! and serves its mailbox.
//!
//! CPU hotplug (virt): a core leaves through `go_offline` (IRQs masked, the crate's
//! `cpu_offline` hook, PSCI CPU_OFF); PSCI CPU_ON (`cpu_on`) starts it at `_start`
//! again, and it comes up exactly as at boot. Everything a core runs before the
//! `cpu_online` hook and after the `cpu_offline` hook is in `.text.noprobe*`.

use crate::board::{BOARD, SecondaryStart};
pub use crate::cpu::{MAX_CORES, cpu_id, online_count, online_cpus, online_mask};
use crate::platform::PLATFORM;
use crate::probes::RENDEZVOUS;
use crate::{cpu, irq, mmu, timer};
#[cfg(feature = "board-virt")]
use core::sync::atomic::AtomicBool;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

const RELEASE_MAGIC: u32 = 0x5ec0_1dad;
const PSCI_CPU_ON: u32 = 0x8400_0003;
#[cfg(feature = "board-virt")]
const PSCI_CPU_OFF: u32 = 0x8400_0002;
#[cfg(feature = "board-virt")]
const PSCI_AFFINITY_INFO: u32 = 0x8400_0004;

/// Written by core 0 to let parked secondaries run. Read with the MMU off.
#[unsafe(no_mangle)]
static SECONDARY_RELEASE: AtomicU32 = AtomicU32::new(0);

static MPIDR: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];
static MAILBOX: [AtomicUsize; MAX_CORES] = [const { AtomicUsize::new(0) }; MAX_CORES];

// The park loop runs before the secondary has a stack or an MMU, so it is assembly.
// A core at or above the CPU count in the boot arguments never leaves it: it sleeps in
// WFI with IRQs and FIQs masked (as at reset) and nothing ever targets it. That is how
// `--smp 2` works on raspi2b, where QEMU always starts 4 cores (its minimum): the two
// extra vCPUs halt instead of spinning (WFI halts a QEMU vCPU; WFE does not).
// SAFETY: called by aarch32-rt's `_default_start` with `bl` (lr valid) on secondaries
// only, r0 = core id; clobbers r1–r3, which that caller does not keep (the core id is
// also in r4). With the MMU off it reads two boot-argument words (RAM the image never
// uses, written by QEMU's loader before reset) and one word whose address is fixed at
// link time, and returns once core 0 wrote the magic value there (after cleaning it to
// the point of coherency).
core::arch::global_asm!(
    ".pushsection .text.noprobe.park, \"ax\", %progbits",
    ".arm",
    ".global _asm_secondary_core_park",
    ".type _asm_secondary_core_park, %function",
    ".p2align 2",
    "_asm_secondary_core_park:",
    "    ldr   r1, ={bootargs}",
    "    ldr   r2, [r1]",
    "    ldr   r3, ={args_magic}",
    "    cmp   r2, r3",
    "    bne   2f",                 // no boot arguments: every core QEMU has runs
    "    ldr   r2, [r1, #12]",      // the CPU count the runner asked for
    "    cmp   r2, #0",
    "    beq   2f",
    "    cmp   r0, r2",
    "    blo   2f",                 // this core is one of them
    "3:  wfi",                      // not one of them: halted for good
    "    b     3b",
    "2:  ldr   r1, ={release}",     // r1 = &SECONDARY_RELEASE
    "    ldr   r2, ={magic}",       // r2 = the value core 0 publishes
    "1:  ldr   r3, [r1]",
    "    cmp   r3, r2",
    "    wfene",                    // sleep until core 0's SEV (or any event)
    "    bne   1b",
    "    dmb",                      // order later reads after the release
    "    bx    lr",
    ".size _asm_secondary_core_park, . - _asm_secondary_core_park",
    ".popsection",
    release = sym SECONDARY_RELEASE,
    magic = const RELEASE_MAGIC,
    bootargs = const crate::board::BOOTARGS,
    args_magic = const crate::bootargs::MAGIC,
);

/// The MPIDR core `cpu` reported when it checked in.
pub fn mpidr(cpu: usize) -> u32 {
    MPIDR[cpu].load(Ordering::Acquire)
}

/// Marks the calling core online and records its MPIDR. Only inside the crate's
/// `cpu_online` hook (see [`come_online`]), which is what makes the change safe.
fn check_in() {
    let id = cpu_id();
    MPIDR[id].store(aarch32_cpu::register::Mpidr::read().0, Ordering::Release);
    cpu::ONLINE.fetch_or(1 << id, Ordering::AcqRel);
}

/// The hotplug hook of a core coming online (core 0 at boot, every secondary each time
/// it starts): with IRQs still masked and the MMU on, wait out any rendezvous in flight,
/// make this core's instruction side coherent, and join the online set. Everything a
/// core runs from reset until here is never-probe (`.text.noprobe*`, the `_start`
/// path), because text may change meanwhile without this core being stopped.
#[unsafe(link_section = ".text.noprobe.smp")]
pub fn come_online() {
    if let Err(e) = RENDEZVOUS.cpu_online(&PLATFORM, check_in) {
        crate::uart::print_unlocked(format_args!(
            "\n!!! cpu {} cannot come online: {e}\n",
            cpu_id()
        ));
        crate::semihosting::exit(6)
    }
}

fn psci_cpu_on(target_mpidr: u32, entry: u32) -> i32 {
    let ret: i32;
    // SAFETY: on QEMU virt (no EL2/EL3 firmware), HVC is the PSCI conduit and QEMU
    // handles the call itself: r0 = function id, r1 = target, r2 = entry point,
    // r3 = context id; r0 returns the PSCI status. No memory is touched.
    unsafe {
        core::arch::asm!(
            ".arch_extension virt",
            "hvc #0",
            inout("r0") PSCI_CPU_ON => ret,
            in("r1") target_mpidr,
            in("r2") entry,
            in("r3") 0u32,
            options(nostack),
        );
    }
    ret
}

/// Releases the secondaries and waits (up to 2 s) until the cores QEMU was given check
/// in. Returns the online mask.
pub fn start_secondaries() -> u32 {
    SECONDARY_RELEASE.store(RELEASE_MAGIC, Ordering::Release);
    let addr = &SECONDARY_RELEASE as *const AtomicU32 as usize;
    // SAFETY: DCCMVAC (clean by VA to PoC) on the line holding SECONDARY_RELEASE
    // pushes it to memory for cores whose caches are still off; DSB completes it
    // before SEV wakes them. No other state is affected.
    unsafe {
        core::arch::asm!("mcr p15, 0, {a}, c7, c10, 1", "dsb", "sev", a = in(reg) addr,
            options(nostack, preserves_flags));
    }
    if BOARD.secondary_start == SecondaryStart::PsciCpuOn {
        unsafe extern "C" {
            fn _start();
        }
        for cpu in 1..MAX_CORES {
            // An absent core (QEMU -smp < 4) answers INVALID_PARAMETERS; the wait
            // below then simply does not see it.
            let _ = psci_cpu_on(cpu as u32, _start as *const () as usize as u32);
        }
    }
    let deadline = timer::now_ns() + 2_000_000_000;
    // Under -icount the 2 s are 2e9 guest instructions: wait only for cores that exist.
    let expected = crate::bootargs::cpus() as u32;
    while online_mask().count_ones() < expected && timer::now_ns() < deadline {
        core::hint::spin_loop();
    }
    online_mask()
}

struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    pending: AtomicU32,
}

/// Runs `f(cpu)` on every online core, core 0 included, at the same time, and
/// returns when all have finished.
pub fn on_each_cpu(f: &(dyn Fn(usize) + Sync)) {
    let me = cpu_id();
    let others = online_mask() & !(1 << me);
    let job = Job {
        f,
        pending: AtomicU32::new(others.count_ones()),
    };
    for (cpu, mailbox) in MAILBOX.iter().enumerate() {
        if others & (1 << cpu) != 0 {
            mailbox.store(&job as *const Job as usize, Ordering::Release);
        }
    }
    aarch32_cpu::asm::dsb();
    aarch32_cpu::asm::sev();
    f(me);
    while job.pending.load(Ordering::Acquire) != 0 {
        core::hint::spin_loop();
    }
}

/// Runs `f(cpu)` on each online core other than the caller, and waits for them.
pub fn on_other_cpus(f: &(dyn Fn(usize) + Sync)) {
    let me = cpu_id();
    on_each_cpu(&|cpu| {
        if cpu != me {
            f(cpu)
        }
    });
}

/// A secondary's life after check-in: run what arrives in its mailbox, forever (or
/// until asked to power off, on virt).
pub fn serve_mailbox() -> ! {
    let me = cpu_id();
    loop {
        #[cfg(feature = "board-virt")]
        if OFF_REQUEST[me].swap(false, Ordering::AcqRel) {
            go_offline();
        }
        let j = MAILBOX[me].swap(0, Ordering::AcqRel);
        if j == 0 {
            aarch32_cpu::asm::wfe();
            continue;
        }
        // SAFETY: only `on_each_cpu` stores non-zero values here: the address of a
        // `Job` on its stack, which stays alive until `pending` reaches zero — and we
        // decrement it only after our last use of the job.
        let job = unsafe { &*(j as *const Job) };
        (job.f)(me);
        job.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Entry of every secondary core (called by aarch32-rt in SYS mode on its own stack,
/// IRQs and FIQs masked), at boot and each time PSCI CPU_ON starts it again.
/// Never-probe: it runs before the core is in the online set.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.smp")]
pub extern "C" fn kmain_secondary(_core: u32) -> ! {
    mmu::enable();
    // Running: PSCI says ON from here on (caches on, so core 0 sees the store).
    #[cfg(feature = "board-virt")]
    STARTING[cpu_id()].store(false, Ordering::Release);
    irq::init_cpu();
    come_online();
    // SAFETY: this core's interrupt controller interface and the IRQ entry are ready on this core, and it
    // is online: every rendezvous from now on parks it.
    unsafe { aarch32_cpu::interrupt::enable() };
    #[cfg(feature = "board-virt")]
    {
        let task = ONLINE_TASK.load(Ordering::Acquire);
        if task != 0 {
            // SAFETY: ONLINE_TASK only ever holds 0 or a `fn(usize)` (set_online_task).
            let task = unsafe { core::mem::transmute::<usize, fn(usize)>(task) };
            task(cpu_id());
            go_offline();
        }
    }
    serve_mailbox()
}

/// Set by [`request_offline`]: the core powers itself off from its mailbox loop.
#[cfg(feature = "board-virt")]
static OFF_REQUEST: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

/// What a secondary runs each time it comes online, before powering itself off again
/// (0: serve the mailbox instead).
#[cfg(feature = "board-virt")]
static ONLINE_TASK: AtomicUsize = AtomicUsize::new(0);

/// Makes every secondary that comes online from now on run `task(cpu)` and then power
/// itself off (`None`: serve the mailbox, as at boot).
#[cfg(feature = "board-virt")]
pub fn set_online_task(task: Option<fn(usize)>) {
    ONLINE_TASK.store(task.map_or(0, |t| t as usize), Ordering::Release);
}

/// Asks secondary `cpu`, idle in its mailbox loop, to power itself off.
#[cfg(feature = "board-virt")]
pub fn request_offline(cpu: usize) {
    OFF_REQUEST[cpu].store(true, Ordering::Release);
    aarch32_cpu::asm::dsb();
    aarch32_cpu::asm::sev();
}

/// Takes the calling core out of the online set (the crate's hotplug hook) and powers
/// it off with PSCI CPU_OFF. Never-probe from the moment IRQs are masked: once the core
/// is offline no rendezvous stops it, so it must not run text that may be patched.
#[cfg(feature = "board-virt")]
#[unsafe(link_section = ".text.noprobe.smp")]
pub fn go_offline() -> ! {
    let me = cpu_id();
    // SAFETY: masks IRQ and FIQ on this core only; they stay masked until power-off.
    unsafe { core::arch::asm!("cpsid if", options(nostack, preserves_flags)) };
    let marked = RENDEZVOUS.cpu_offline(&PLATFORM, || {
        cpu::ONLINE.fetch_and(!(1 << me), Ordering::AcqRel);
    });
    if let Err(e) = marked {
        crate::uart::print_unlocked(format_args!("\n!!! cpu {me} cannot go offline: {e}\n"));
        crate::semihosting::exit(6)
    }
    psci_cpu_off()
}

/// PSCI CPU_OFF: the calling core stops; it comes back only through CPU_ON, at `_start`.
#[cfg(feature = "board-virt")]
#[unsafe(link_section = ".text.noprobe.smp")]
fn psci_cpu_off() -> ! {
    // SAFETY: on QEMU virt, HVC is the PSCI conduit (see psci_cpu_on). CPU_OFF does not
    // return on success; this core holds no lock and is out of the online set, with
    // IRQs and FIQs masked. Should it return (an error), the loop below parks it.
    unsafe {
        core::arch::asm!(
            ".arch_extension virt",
            "hvc #0",
            in("r0") PSCI_CPU_OFF,
            options(nostack),
        );
    }
    crate::uart::print_unlocked(format_args!(
        "\n!!! PSCI CPU_OFF returned on cpu {}\n",
        cpu_id()
    ));
    crate::semihosting::exit(6)
}

/// Per core: CPU_ON succeeded and the core has not started running yet. QEMU 7.2 carries
/// out a CPU_ON on the target's own vCPU thread, and until it has, AFFINITY_INFO still
/// says OFF and a second CPU_ON succeeds too — the second reset then throws away the
/// first start. Under round-robin TCG the target always ran in between; under
/// multi-threaded TCG core 0 asked again first (`--mttcg`: 30–80 of 1,000 power-ons
/// lost). A kernel does what Linux does: a core it started is not off until it ran.
#[cfg(feature = "board-virt")]
static STARTING: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

/// Starts powered-off secondary `cpu` again at `_start` (PSCI CPU_ON); returns the
/// PSCI status (0 success, -4 ALREADY_ON, -5 ON_PENDING).
#[cfg(feature = "board-virt")]
pub fn cpu_on(cpu: usize) -> i32 {
    unsafe extern "C" {
        fn _start();
    }
    // Set first: the core may run (and clear it) before CPU_ON returns here.
    STARTING[cpu].store(true, Ordering::Release);
    let status = psci_cpu_on(cpu as u32, _start as *const () as usize as u32);
    if status != 0 {
        STARTING[cpu].store(false, Ordering::Release);
    }
    status
}

/// Whether `cpu` is powered off: PSCI says so (AFFINITY_INFO, level 0, says OFF) and no
/// start of it is still on its way ([`cpu_on`]).
#[cfg(feature = "board-virt")]
pub fn is_off(cpu: usize) -> bool {
    !STARTING[cpu].load(Ordering::Acquire) && psci_affinity_off(cpu)
}

/// PSCI AFFINITY_INFO of `cpu` at level 0 says OFF.
#[cfg(feature = "board-virt")]
fn psci_affinity_off(cpu: usize) -> bool {
    let ret: i32;
    // SAFETY: PSCI AFFINITY_INFO over HVC (see psci_cpu_on): r1 = target affinity,
    // r2 = lowest affinity level 0; returns 0 ON, 1 OFF, 2 ON_PENDING. No memory.
    unsafe {
        core::arch::asm!(
            ".arch_extension virt",
            "hvc #0",
            inout("r0") PSCI_AFFINITY_INFO => ret,
            in("r1") cpu as u32,
            in("r2") 0u32,
            options(nostack),
        );
    }
    ret == 1
}
