//! Leaving QEMU with an exit code, and writing a host file (a probe-event capture),
//! through Arm semihosting (QEMU runs with `-semihosting`).

const SYS_OPEN: u32 = 0x01;
const SYS_CLOSE: u32 = 0x02;
const SYS_WRITE: u32 = 0x05;
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// SYS_OPEN's mode for "wb": create or truncate, binary.
const MODE_WB: u32 = 5;
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

/// One semihosting call: `op` with r1 pointing at `block`; returns r0.
fn call(op: u32, block: &[u32]) -> u32 {
    let r0: u32;
    // SAFETY: `svc #0x123456` is the A32 semihosting call; QEMU (started with
    // -semihosting) intercepts it before any exception is taken and reads the words
    // `block` holds (alive for the call) and the guest memory they point to, which the
    // callers keep alive and mapped; it writes nothing of the guest's but r0.
    unsafe {
        core::arch::asm!(
            "svc #0x123456",
            inout("r0") op => r0,
            in("r1") block.as_ptr(),
            options(nostack)
        );
    }
    r0
}

/// A host file opened for writing through semihosting (closed on drop).
pub struct HostFile(u32);

impl HostFile {
    /// Creates (or truncates) the host file at `path` (relative to QEMU's working
    /// directory, or absolute).
    pub fn create(path: &str) -> Result<HostFile, &'static str> {
        // SYS_OPEN wants a NUL-terminated name as well as its length.
        let mut name = alloc::vec::Vec::with_capacity(path.len() + 1);
        name.extend_from_slice(path.as_bytes());
        name.push(0);
        let handle = call(
            SYS_OPEN,
            &[name.as_ptr() as u32, MODE_WB, path.len() as u32],
        );
        if handle == u32::MAX {
            return Err("semihosting could not open the file");
        }
        Ok(HostFile(handle))
    }

    /// Writes all of `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), &'static str> {
        // SYS_WRITE returns the number of bytes it did not write.
        match call(
            SYS_WRITE,
            &[self.0, bytes.as_ptr() as u32, bytes.len() as u32],
        ) {
            0 => Ok(()),
            _ => Err("semihosting wrote only part of the bytes"),
        }
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        call(SYS_CLOSE, &[self.0]);
    }
}
