//! The compiler's built-ins are never-probe: the hit, step and patch paths call
//! `__aeabi_memcpy4`, `__aeabi_memclr8`, `__udivsi3`, `memcmp` without naming them, so
//! a probe there would fire inside the probe machinery. `link.ld` collects all of
//! compiler-builtins into the never-probe range; registering a probe on any of them is
//! refused and leaves the text unchanged. (The host test `tests/heavy/never_probe_calls.rs`
//! checks the whole range by disassembly.)

use super::kprobes::text_snapshot;
use crate::ensure;
use crate::probes::KPROBES;
use crate::testing::TestResult;
use armv7_kprobes::kprobe::{Kprobe, KprobeError};

unsafe extern "C" {
    fn __aeabi_memcpy();
    fn __aeabi_memcpy4();
    fn __aeabi_memcpy8();
    fn __aeabi_memclr();
    fn __aeabi_memclr4();
    fn __aeabi_memclr8();
    fn __aeabi_memset();
    fn __aeabi_uidiv();
    fn __udivsi3();
    fn __divsi3();
    fn memcmp();
}

static PROBE: Kprobe = Kprobe::new(None, None, 0);

pub fn compiler_builtins_cannot_be_probed() -> TestResult {
    let before = text_snapshot();
    let builtins: [(&str, unsafe extern "C" fn()); 11] = [
        ("__aeabi_memcpy", __aeabi_memcpy),
        ("__aeabi_memcpy4", __aeabi_memcpy4),
        ("__aeabi_memcpy8", __aeabi_memcpy8),
        ("__aeabi_memclr", __aeabi_memclr),
        ("__aeabi_memclr4", __aeabi_memclr4),
        ("__aeabi_memclr8", __aeabi_memclr8),
        ("__aeabi_memset", __aeabi_memset),
        ("__aeabi_uidiv", __aeabi_uidiv),
        ("__udivsi3", __udivsi3),
        ("__divsi3", __divsi3),
        ("memcmp", memcmp),
    ];
    for (name, f) in builtins {
        let addr = f as *const () as usize & !1;
        match KPROBES.register(&PROBE, addr) {
            Err(KprobeError::NeverProbe { addr: a, .. }) if a == addr => {}
            Ok(()) => {
                let _ = KPROBES.unregister(&PROBE);
                return Err(alloc::format!("{name} at {addr:#x} was probed"));
            }
            Err(e) => return Err(alloc::format!("{name} at {addr:#x}: {e}, not NeverProbe")),
        }
    }
    ensure!(text_snapshot() == before, "text changed");
    crate::kprint!(
        "\n     {} compiler built-ins refused as never-probe ",
        builtins.len()
    );
    Ok(())
}
