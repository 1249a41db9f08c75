use super::*;
use crate::trace::definition::{Definition, parse};

/// Readable memory: `len` bytes from `base`, byte i = `bytes[i]`.
struct Window {
    base: u32,
    bytes: Vec<u8>,
    reads: usize,
}

impl FetchMemory for Window {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), ()> {
        self.reads += 1;
        let start = addr.checked_sub(self.base).ok_or(())? as usize;
        let end = start.checked_add(buf.len()).ok_or(())?;
        buf.copy_from_slice(self.bytes.get(start..end).ok_or(())?);
        Ok(())
    }
}

const BASE: u32 = 0x1000;

fn window() -> Window {
    let mut bytes = vec![0u8; 256];
    // 0x1000: pointer to 0x1010; 0x1004: pointer to nowhere
    bytes[0..4].copy_from_slice(&0x1010u32.to_le_bytes());
    bytes[4..8].copy_from_slice(&0xdead_0000u32.to_le_bytes());
    // 0x1010: "hello\0"; 0x1020: 40 x 'a' then NUL; 0x10f8..: "abcdefgh" to the edge
    bytes[0x10..0x16].copy_from_slice(b"hello\0");
    bytes[0x20..0x48].fill(b'a');
    bytes[0x60..0x68].copy_from_slice(&0x8877_6655_4433_2211u64.to_le_bytes());
    bytes[0xf8..0x100].copy_from_slice(b"abcdefgh");
    Window {
        base: BASE,
        bytes,
        reads: 0,
    }
}

fn frame() -> TrapFrame {
    let mut f = TrapFrame::default();
    for (i, r) in f.r.iter_mut().enumerate() {
        *r = 0x100 + i as u32;
    }
    f.r[0] = 0xFFFF_FF85; // -123 as s32
    f.r[1] = 0x1000;
    f.r[2] = 0x1060;
    f.sp = 0x10f8;
    f.lr = 0x8000_0004;
    f.pc = 0x8000_0000;
    f.cpsr = 0x6000_01d3;
    f
}

fn run(line: &str) -> Record {
    let Definition::Event(e) = parse(line).unwrap() else {
        panic!()
    };
    let f = frame();
    let mut r = Record::default();
    fetch_args(
        &e,
        &FetchContext { frame: &f, cpu: 3 },
        &mut window(),
        &mut r,
    );
    r
}

#[test]
fn registers_and_variables_keep_the_types_width() {
    let r = run("p f %r0 %r0:u8 %r0:s16 %sp %lr %pc %cpsr $cpu");
    assert_eq!(
        r.values,
        [
            0xFFFF_FF85,
            0x85,
            0xFF85,
            0x10f8,
            0x8000_0004,
            0x8000_0000,
            0x6000_01d3,
            3
        ]
    );
    assert_eq!((r.faults, r.truncated), (0, 0));
    let r = run("p f %r12:u64 %fp %ip");
    assert_eq!(&r.values[..3], &[0x10c, 0x10b, 0x10c]);
}

#[test]
fn retval_is_r0_or_r1_r0_for_64_bits() {
    let r = run("r f $retval $retval:u64 $retval:s8");
    assert_eq!(&r.values[..3], &[0xFFFF_FF85, 0x1000_FFFF_FF85, 0x85]);
}

#[test]
fn memory_reads_use_the_types_width_and_nest_through_pointers() {
    let r = run("p f +0(%r2):u8 +0(%r2):u16 +0(%r2):u32 +0(%r2):u64 +4(%r2):x16 +0(%r1)");
    assert_eq!(
        &r.values[..6],
        &[
            0x11,
            0x2211,
            0x4433_2211,
            0x8877_6655_4433_2211,
            0x6655,
            0x1010
        ]
    );
    // +1(+0(%r1)) = the byte at (*0x1000) + 1 = 'e'
    let r = run("p f +1(+0(%r1)):u8 -0x10(+0(%r1)):x32");
    assert_eq!(&r.values[..2], &[u64::from(b'e'), 0x1010]);
    assert_eq!(r.faults, 0);
}

fn string_at(r: &Record, slot: usize) -> Vec<u8> {
    r.slot_bytes(slot, crate::trace::definition::STRING_SLOTS)
        .take_while(|&b| b != 0)
        .collect()
}

#[test]
fn strings_stop_at_nul_or_the_bound_and_say_when_cut() {
    let r = run("p f s=+0(+0(%r1)):string long=+0x20(%r1):string");
    assert_eq!(string_at(&r, 0), b"hello");
    assert_eq!(string_at(&r, 3), vec![b'a'; STRING_MAX_LEN]);
    assert_eq!(r.truncated, 0b10);
    assert_eq!(r.faults, 0);
}

#[test]
fn a_string_ending_at_unreadable_memory_keeps_what_was_readable() {
    let r = run("p f +0(%sp):string");
    assert_eq!(string_at(&r, 0), b"abcdefgh");
    assert_eq!((r.faults, r.truncated), (0, 0));
}

#[test]
fn refused_reads_become_fault_markers_with_zero_values() {
    let r = run("p f %r0 +0(%r0) +0(+4(%r1)):u8 +0(%r3):string +0(%r1):u64 -4(%r1)");
    assert_eq!(r.faults, 0b10_1110);
    assert_eq!(r.values[0], 0xFFFF_FF85);
    assert!(r.values[1..].iter().take(5).all(|&v| v == 0));
    // +0(%r1):u64 reads 0x1000..0x1008: fine.
    assert_eq!(r.values[6], 0xdead_0000_0000_1010);
}

#[test]
fn no_read_goes_past_the_last_window_byte_or_wraps_silently() {
    let mut w = window();
    let f = frame();
    let Definition::Event(e) = parse("p f +0x7fffffff(%sp) -0x10f9(%sp):u8").unwrap() else {
        panic!()
    };
    let mut r = Record::default();
    fetch_args(&e, &FetchContext { frame: &f, cpu: 0 }, &mut w, &mut r);
    assert_eq!(r.faults, 0b11);
    assert!(w.reads >= 2);
}
