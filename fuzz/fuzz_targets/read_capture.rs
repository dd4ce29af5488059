//! Fuzz the capture reader: arbitrary bytes as a pcap or pcapng source, every frame read and
//! parsed. Nothing may panic, hang or read past the input, whatever it holds.
//!
//! Input: the capture's bytes, as a file would hold them.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use vpcsim_capture::{CaptureReader, MAX_CAPLEN};
use vpcsim_dataplane::wire;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let Ok(mut reader) = CaptureReader::from_reader("input", Cursor::new(data.to_vec()), len)
    else {
        return;
    };
    let mut position = reader.position();
    let mut errors = 0;
    while let Some(frame) = reader.next_frame() {
        match frame {
            Ok(f) => {
                assert!(f.data.len() <= MAX_CAPLEN as usize, "frame over the cap");
                // The link-layer header of every link type the file names, VLAN tags included.
                let _ = wire::parse(f.link, f.data);
            }
            Err(_) => errors += 1,
        }
        let now = reader.position();
        assert!(position <= now && now <= len, "position {now} of {len}");
        position = now;
    }
    assert!(errors <= 1, "the reader stops at its first error");
    assert!(reader.next_frame().is_none(), "frames after the end");
});
