//! Leaving QEMU with an exit code, through Arm semihosting (QEMU runs with `-semihosting`).

const SYS_EXIT_EXTENDED: u32 = 0x20;
const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;

/// Ends the QEMU process with `code` as its exit status.
pub fn exit(code: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code];
    // SAFETY: `svc #0x123456` is the A32 semihosting call; QEMU (started with
    // -semihosting) intercepts it before any exception is taken, reads the two-word
    // block r1 points to (alive on our stack) and exits. It does not return, but we
    // don't rely on that: the loop below catches a missing -semihosting.
    unsafe {
        core::arch::asm!(
            "svc #0x123456",
            inout("r0") SYS_EXIT_EXTENDED => _,
            in("r1") block.as_ptr(),
            options(nostack)
        );
    }
    loop {
        core::hint::spin_loop();
    }
}
