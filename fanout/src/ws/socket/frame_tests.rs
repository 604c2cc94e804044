use super::*;
use proptest::prelude::*;

/// A frame as a client sends it: masked with `mask`.
pub(crate) fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

#[test]
fn server_frames_have_the_shortest_length_encoding() {
    assert_eq!(&encode(OP_TEXT, b"hi")[..], &[0x81, 2, b'h', b'i']);
    let medium = encode(OP_TEXT, &[b'x'; 126]);
    assert_eq!(&medium[..4], &[0x81, 126, 0, 126]);
    assert_eq!(medium.len(), 4 + 126);
    let large = encode(OP_BINARY, &vec![0; 70_000]);
    assert_eq!(&large[..2], &[0x82, 127]);
    assert_eq!(&large[2..10], &70_000u64.to_be_bytes());
}

#[test]
fn a_close_frame_carries_its_code_and_a_reason_cut_on_a_char_boundary() {
    let frame = close(4008, "too slow");
    assert_eq!(&frame[..4], &[0x88, 10, 0x0F, 0xA8]);
    assert_eq!(&frame[4..], b"too slow");
    let long = "é".repeat(100);
    let frame = close(1001, &long);
    let reason = &frame[4..];
    assert!(reason.len() <= 123);
    assert!(std::str::from_utf8(reason).is_ok());
}

#[test]
fn a_masked_client_frame_is_unmasked() {
    let bytes = client_frame(true, OP_TEXT, b"{\"type\":\"ping\"}", [1, 2, 3, 4]);
    let (frame, used) = parse(&bytes, 1024).expect("valid").expect("complete");
    assert_eq!(used, bytes.len());
    assert!(frame.fin);
    assert_eq!(frame.opcode, OP_TEXT);
    assert_eq!(frame.payload, b"{\"type\":\"ping\"}");
}

#[test]
fn every_length_encoding_parses() {
    for len in [0, 125, 126, 65_535, 65_536] {
        let payload = vec![7u8; len];
        let bytes = client_frame(true, OP_BINARY, &payload, [9, 8, 7, 6]);
        let (frame, used) = parse(&bytes, 1 << 20).expect("valid").expect("complete");
        assert_eq!((frame.payload.len(), used), (len, bytes.len()));
    }
}

#[test]
fn protocol_violations_are_refused_with_their_close_codes() {
    let unmasked = [0x81, 0x00];
    assert_eq!(parse(&unmasked, 10), Err(ProtocolError::Unmasked));
    let mut reserved = client_frame(true, OP_TEXT, b"x", [0; 4]);
    reserved[0] |= 0x40;
    assert_eq!(parse(&reserved, 10), Err(ProtocolError::ReservedBits));
    let unknown = client_frame(true, 0x3, b"", [0; 4]);
    assert_eq!(parse(&unknown, 10), Err(ProtocolError::UnknownOpcode(3)));
    let fragmented_ping = client_frame(false, OP_PING, b"", [0; 4]);
    assert_eq!(
        parse(&fragmented_ping, 10),
        Err(ProtocolError::BadControlFrame)
    );
    let long_ping = client_frame(true, OP_PING, &[0; 126], [0; 4]);
    assert_eq!(parse(&long_ping, 1000), Err(ProtocolError::BadControlFrame));
    assert_eq!(ProtocolError::Unmasked.close_code(), 1002);
    assert_eq!(ProtocolError::InvalidUtf8.close_code(), 1007);
    assert_eq!(ProtocolError::TooBig.close_code(), 1009);
}

#[test]
fn an_oversize_length_is_refused_from_the_header_alone() {
    let header = [0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0];
    assert_eq!(parse(&header, 64 * 1024), Err(ProtocolError::TooBig));
    let absurd = [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(parse(&absurd, usize::MAX), Err(ProtocolError::TooBig));
}

#[test]
fn close_codes_are_checked() {
    assert_eq!(close_code(b""), Ok(None));
    assert_eq!(close_code(&[0x03]), Err(ProtocolError::BadClose));
    assert_eq!(close_code(&1000u16.to_be_bytes()), Ok(Some(1000)));
    assert_eq!(close_code(&4403u16.to_be_bytes()), Ok(Some(4403)));
    for bad in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
        assert_eq!(
            close_code(&bad.to_be_bytes()),
            Err(ProtocolError::BadClose),
            "{bad}"
        );
    }
    let mut bad_reason = 1000u16.to_be_bytes().to_vec();
    bad_reason.extend_from_slice(&[0xFF, 0xFE]);
    assert_eq!(close_code(&bad_reason), Err(ProtocolError::BadClose));
}

proptest! {
    /// Any prefix of a valid frame asks for more bytes; the whole frame parses to its payload.
    #[test]
    fn prefixes_ask_for_more_and_the_whole_frame_parses(
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        mask in any::<[u8; 4]>(),
        opcode in prop_oneof![Just(OP_TEXT), Just(OP_BINARY), Just(OP_CONTINUATION)],
        fin in any::<bool>(),
    ) {
        let bytes = client_frame(fin, opcode, &payload, mask);
        for cut in 0..bytes.len() {
            prop_assert_eq!(parse(&bytes[..cut], 1024), Ok(None));
        }
        let (frame, used) = parse(&bytes, 1024).expect("valid").expect("complete");
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(frame, Frame { fin, opcode, payload });
    }

    /// No input makes the parser panic or claim more bytes than it was given.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Some((_, used))) = parse(&bytes, 1024) {
            prop_assert!(used <= bytes.len());
        }
    }
}
