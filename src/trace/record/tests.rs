use super::*;
use crate::trace::definition::{Definition, parse};

fn sample_record() -> Record {
    Record {
        timestamp: 0x0102_0304_0506_0708,
        entry_timestamp: 0x1112_1314_1516_1718,
        event: 0xBEEF,
        cpu: 3,
        flags: Record::RETURN,
        faults: 0b1010_0000,
        truncated: 0b0000_0101,
        values: [1, 2, 3, u64::MAX, 5, 6, 7, 0x8000_0000_0000_0000],
    }
}

fn event_def(line: &str) -> EventDefinition<'_> {
    match parse(line).unwrap() {
        Definition::Event(e) => e,
        d => panic!("{d:?}"),
    }
}

type Sink<'s> = &'s mut dyn FnMut(&[u8]);

fn capture(write: impl FnOnce(&mut CaptureWriter<Sink<'_>>)) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut push = |b: &[u8]| bytes.extend_from_slice(b);
    let mut w: CaptureWriter<Sink<'_>> = CaptureWriter::new(&mut push);
    write(&mut w);
    bytes
}

fn frames(bytes: &[u8]) -> Vec<Result<(usize, Frame<'_>), CaptureError>> {
    CaptureReader::new(bytes).collect()
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(Crc32::of(b"123456789"), 0xCBF4_3926);
    assert_eq!(Crc32::of(b""), 0);
    let mut split = Crc32::default();
    split.update(b"1234");
    split.update(b"56789");
    assert_eq!(split.finish(), 0xCBF4_3926);
}

#[test]
fn record_round_trips_through_bytes_and_words() {
    let r = sample_record();
    let bytes = r.to_bytes();
    assert_eq!(bytes.len(), RECORD_SIZE);
    assert_eq!(&bytes[0..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(&bytes[16..22], &[0xEF, 0xBE, 3, 1, 0b1010_0000, 0b101]);
    assert_eq!(&bytes[22..24], &[0, 0]);
    assert_eq!(Record::from_bytes(&bytes), r);
    assert_eq!(Record::from_words(&r.to_words()), r);
    assert_eq!(r.to_words()[0], 0x0506_0708);
    for (w, chunk) in r.to_words().iter().zip(bytes.chunks_exact(4)) {
        assert_eq!(w.to_le_bytes(), chunk);
    }
}

#[test]
fn return_record_latency_is_exact_and_entry_records_have_none() {
    let r = Record {
        timestamp: 1_000,
        entry_timestamp: 400,
        flags: Record::RETURN,
        ..Record::default()
    };
    assert!(r.is_return());
    assert_eq!(r.latency_ticks(), Some(600));
    assert_eq!(Record::default().latency_ticks(), None);
}

#[test]
fn slot_bytes_reads_strings_in_order_and_stays_in_bounds() {
    let mut r = Record::default();
    r.values[1] = u64::from_le_bytes(*b"hello, w");
    r.values[2] = u64::from_le_bytes(*b"orld\0\0\0\0");
    let text: Vec<u8> = r.slot_bytes(1, 2).collect();
    assert_eq!(&text, b"hello, world\0\0\0\0");
    assert_eq!(r.slot_bytes(7, 3).count(), 8);
    assert_eq!(r.slot_bytes(9, 3).count(), 0);
}

#[test]
fn capture_round_trips_every_frame_kind() {
    let def = event_def("r:open_ret do_open ret=$retval:s32 path=+0(%r1):string");
    let bytes = capture(|w| {
        w.header(&CaptureHeader {
            timer_hz: 62_500_000,
            cpus: 4,
        });
        w.event(7, &def);
        w.record(&sample_record());
        w.dropped(2, 12345);
        w.end();
    });
    let frames = frames(&bytes);
    assert_eq!(frames.len(), 5);
    let frames: Vec<(usize, Frame<'_>)> = frames.into_iter().map(Result::unwrap).collect();
    assert_eq!(frames[0].0, 0);
    assert_eq!(
        frames[0].1,
        Frame::Header(CaptureHeader {
            timer_hz: 62_500_000,
            cpus: 4
        })
    );
    let Frame::Event(e) = frames[1].1 else {
        panic!("{:?}", frames[1])
    };
    assert_eq!(
        (e.id, e.kind, e.name, e.target),
        (7, EventKind::Return, "open_ret", "do_open")
    );
    let args: Vec<ArgDescription<'_>> = e.args().collect();
    assert_eq!(e.arg_count(), 2);
    assert_eq!(
        args,
        [
            ArgDescription {
                name: "ret",
                ty: FetchType::S32,
                slot: 0
            },
            ArgDescription {
                name: "path",
                ty: FetchType::String,
                slot: 1
            }
        ]
    );
    assert_eq!(frames[2].1, Frame::Record(sample_record()));
    assert_eq!(
        frames[2].0,
        frames[3].0 - RECORD_SIZE - FRAME_HEADER_SIZE - FRAME_TRAILER_SIZE
    );
    assert_eq!(
        frames[3].1,
        Frame::Dropped {
            cpu: 2,
            count: 12345
        }
    );
    assert_eq!(frames[4].1, Frame::End);
}

#[test]
fn derived_names_are_written_as_printed() {
    let def = event_def("p do_open+0x10 %r0");
    let bytes = capture(|w| {
        w.header(&CaptureHeader {
            timer_hz: 1,
            cpus: 1,
        });
        w.event(0, &def);
        w.end();
    });
    let Ok((_, Frame::Event(e))) = frames(&bytes)[1] else {
        panic!()
    };
    assert_eq!((e.name, e.target), ("p_do_open_16", "do_open+0x10"));
    assert_eq!(e.args().next().unwrap().name, "arg1");
}

fn small_capture() -> Vec<u8> {
    capture(|w| {
        w.header(&CaptureHeader {
            timer_hz: 1000,
            cpus: 1,
        });
        w.record(&sample_record());
        w.record(&sample_record());
        w.end();
    })
}

fn record_frame_len() -> usize {
    FRAME_HEADER_SIZE + RECORD_SIZE + FRAME_TRAILER_SIZE
}

fn error_of(bytes: &[u8]) -> (usize, CaptureError) {
    let all = frames(bytes);
    let good = all.iter().take_while(|f| f.is_ok()).count();
    assert_eq!(good + 1, all.len(), "exactly one error, last");
    (good, *all.last().unwrap().as_ref().unwrap_err())
}

#[test]
fn truncation_anywhere_keeps_every_whole_frame_before_it() {
    let bytes = small_capture();
    let header_len = FRAME_HEADER_SIZE + HEADER_PAYLOAD + FRAME_TRAILER_SIZE;
    for cut in 0..bytes.len() {
        let (good, e) = error_of(&bytes[..cut]);
        assert_eq!(e.kind, CaptureErrorKind::Truncated, "cut at {cut}");
        let whole = if cut < header_len {
            0
        } else {
            1 + (cut - header_len) / record_frame_len()
        };
        let whole = whole.min(3);
        assert_eq!(good, whole, "cut at {cut}");
        assert!(e.offset <= cut);
    }
    assert!(frames(&bytes).iter().all(Result::is_ok));
}

#[test]
fn a_flipped_bit_in_a_record_is_a_checksum_error_at_that_frame() {
    let bytes = small_capture();
    let second_record =
        FRAME_HEADER_SIZE + HEADER_PAYLOAD + FRAME_TRAILER_SIZE + record_frame_len();
    let mut bad = bytes.clone();
    bad[second_record + FRAME_HEADER_SIZE + 30] ^= 0x10;
    let (good, e) = error_of(&bad);
    assert_eq!(good, 2);
    assert_eq!(e.offset, second_record);
    assert!(matches!(e.kind, CaptureErrorKind::BadChecksum { .. }));
    assert!(
        e.to_string()
            .starts_with(&format!("byte {second_record}: frame checksum mismatch"))
    );
}

#[test]
fn every_single_bit_flip_is_detected() {
    let bytes = small_capture();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            let all = frames(&bad);
            assert!(all.iter().any(Result::is_err), "flip {i}.{bit} unnoticed");
        }
    }
}

/// Re-frames a payload with a valid CRC, to reach the checks behind the checksum.
fn frame_bytes(kind: u8, zero: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = FRAME_MAGIC.to_vec();
    f.extend([kind, zero]);
    f.extend((payload.len() as u16).to_le_bytes());
    f.extend(payload);
    let crc = Crc32::of(&f[4..]);
    f.extend(crc.to_le_bytes());
    f
}

fn header_bytes() -> Vec<u8> {
    capture(|w| {
        w.header(&CaptureHeader {
            timer_hz: 10,
            cpus: 2,
        })
    })
}

#[test]
fn error_bad_magic() {
    let mut bytes = small_capture();
    bytes[0] = b'X';
    assert_eq!(
        error_of(&bytes).1,
        CaptureError {
            offset: 0,
            kind: CaptureErrorKind::BadMagic
        }
    );
    let mut short = header_bytes();
    short.extend(b"JUNK");
    assert_eq!(error_of(&short).1.kind, CaptureErrorKind::BadMagic);
}

#[test]
fn error_unknown_frame_kind() {
    let mut bytes = header_bytes();
    let at = bytes.len();
    bytes.extend(frame_bytes(9, 0, &[]));
    assert_eq!(
        error_of(&bytes).1,
        CaptureError {
            offset: at,
            kind: CaptureErrorKind::UnknownFrameKind(9)
        }
    );
}

#[test]
fn error_malformed_frames() {
    let cases: [(u8, u8, Vec<u8>, FrameKind); 7] = [
        (5, 0, vec![0], FrameKind::End),
        (5, 1, vec![], FrameKind::End),
        (4, 0, vec![0; 8], FrameKind::Dropped),
        (3, 0, vec![0; RECORD_SIZE - 1], FrameKind::Record),
        (2, 0, vec![0, 0, 2, 0, 0, 0, 0, 0], FrameKind::Event),
        // An argument whose string runs past the payload.
        (
            2,
            0,
            vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0],
            FrameKind::Event,
        ),
        (1, 0, vec![1, 0], FrameKind::Header),
    ];
    for (kind, zero, payload, expected) in cases {
        let mut bytes = header_bytes();
        let at = bytes.len();
        bytes.extend(frame_bytes(kind, zero, &payload));
        assert_eq!(
            error_of(&bytes).1,
            CaptureError {
                offset: at,
                kind: CaptureErrorKind::Malformed(expected)
            },
            "{kind} {payload:?}"
        );
    }
}

#[test]
fn error_event_with_invalid_utf8_or_slot_is_malformed() {
    let bad_utf8 = [0, 0, 0, 0, 1, 0, 0xFF, 0, 0];
    let bad_slot = [0, 0, 0, 1, 0, 0, 0, 0, 12, 7, 0, 0];
    for payload in [&bad_utf8[..], &bad_slot[..]] {
        let mut bytes = header_bytes();
        bytes.extend(frame_bytes(2, 0, payload));
        assert_eq!(
            error_of(&bytes).1.kind,
            CaptureErrorKind::Malformed(FrameKind::Event)
        );
    }
}

#[test]
fn error_expected_header() {
    let bytes = frame_bytes(5, 0, &[]);
    assert_eq!(
        error_of(&bytes).1,
        CaptureError {
            offset: 0,
            kind: CaptureErrorKind::ExpectedHeader
        }
    );
}

#[test]
fn error_unsupported_version() {
    let mut payload =
        header_bytes()[FRAME_HEADER_SIZE..FRAME_HEADER_SIZE + HEADER_PAYLOAD].to_vec();
    payload[0] = 2;
    let bytes = frame_bytes(1, 0, &payload);
    assert_eq!(
        error_of(&bytes).1.kind,
        CaptureErrorKind::UnsupportedVersion(2)
    );
}

#[test]
fn error_record_layout() {
    let mut payload =
        header_bytes()[FRAME_HEADER_SIZE..FRAME_HEADER_SIZE + HEADER_PAYLOAD].to_vec();
    payload[2] = 64;
    let bytes = frame_bytes(1, 0, &payload);
    assert_eq!(
        error_of(&bytes).1.kind,
        CaptureErrorKind::RecordLayout {
            record_size: 64,
            value_slots: MAX_VALUE_SLOTS as u8
        }
    );
}

#[test]
fn every_error_kind_displays_its_offset() {
    let kinds = [
        CaptureErrorKind::Truncated,
        CaptureErrorKind::BadMagic,
        CaptureErrorKind::BadChecksum {
            stored: 1,
            computed: 2,
        },
        CaptureErrorKind::UnknownFrameKind(9),
        CaptureErrorKind::Malformed(FrameKind::Record),
        CaptureErrorKind::ExpectedHeader,
        CaptureErrorKind::UnsupportedVersion(2),
        CaptureErrorKind::RecordLayout {
            record_size: 1,
            value_slots: 2,
        },
    ];
    for kind in kinds {
        let text = CaptureError { offset: 77, kind }.to_string();
        assert!(text.starts_with("byte 77: "), "{text}");
        assert!(text.len() > "byte 77: ".len() + 5, "{text}");
    }
}

#[test]
fn nothing_is_read_after_the_end_frame() {
    let mut bytes = small_capture();
    bytes.extend(b"trailing garbage");
    let all = frames(&bytes);
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(all.last().unwrap().as_ref().unwrap().1, Frame::End);
}
