//! RFC 6455 framing, server side: the frames the server sends (unmasked, never fragmented, so a
//! shared frame is encoded once for every client) and a parser for what clients send (masked,
//! possibly fragmented, control frames in between). Pure functions; no I/O.

use bytes::Bytes;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Largest payload of a control frame (ping, pong, close).
const MAX_CONTROL_PAYLOAD: usize = 125;
/// Longest header: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Why a client's bytes are not a valid WebSocket stream; each maps to the close code that
/// tells the client so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("client frames must be masked")]
    Unmasked,
    #[error("reserved bits set without a negotiated extension")]
    ReservedBits,
    #[error("unknown opcode {0:#x}")]
    UnknownOpcode(u8),
    #[error("control frames must be final and at most 125 bytes")]
    BadControlFrame,
    #[error("a continuation frame without a message to continue")]
    StrayContinuation,
    #[error("a new message before the previous one was finished")]
    UnfinishedMessage,
    #[error("message too long")]
    TooBig,
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    #[error("malformed close frame")]
    BadClose,
}

impl ProtocolError {
    /// The close code for this error: 1009 too big, 1007 bad text, 1002 otherwise.
    pub fn close_code(self) -> u16 {
        match self {
            Self::TooBig => 1009,
            Self::InvalidUtf8 => 1007,
            _ => 1002,
        }
    }
}

/// One frame as a client sent it, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// A whole unmasked final frame (header and payload in one buffer, written with one call).
pub fn encode(opcode: u8, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 10);
    push_header(&mut out, opcode, payload.len());
    out.extend_from_slice(payload);
    out.into()
}

/// A whole text frame around `text`.
pub fn text(text: &str) -> Bytes {
    encode(OP_TEXT, text.as_bytes())
}

/// A close frame with `code` and `reason` (cut to fit a control frame, on a char boundary).
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    encode(OP_CLOSE, &payload)
}

fn push_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Parses the frame at the start of `buf`: `Ok(None)` when more bytes are needed, otherwise the
/// frame and how many bytes it took. A declared length over `max_payload` is refused before its
/// payload arrives, so nothing is buffered for it.
pub fn parse(buf: &[u8], max_payload: usize) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let Some(&[b0, b1]) = buf.get(..2) else {
        return Ok(None);
    };
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    if b0 & 0x70 != 0 {
        return Err(ProtocolError::ReservedBits);
    }
    if b1 & 0x80 == 0 {
        return Err(ProtocolError::Unmasked);
    }
    let is_control = opcode & 0x08 != 0;
    match opcode {
        OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG => {}
        other => return Err(ProtocolError::UnknownOpcode(other)),
    }
    let Some((len, mut at)) = payload_len(buf, b1 & 0x7F)? else {
        return Ok(None);
    };
    if is_control && (!fin || len > MAX_CONTROL_PAYLOAD as u64) {
        return Err(ProtocolError::BadControlFrame);
    }
    if len > max_payload as u64 {
        return Err(ProtocolError::TooBig);
    }
    let len = len as usize;
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    let mask = [mask[0], mask[1], mask[2], mask[3]];
    at += 4;
    let Some(masked) = buf.get(at..at + len) else {
        return Ok(None);
    };
    let payload = masked
        .iter()
        .zip(mask.iter().cycle())
        .map(|(byte, key)| byte ^ key)
        .collect();
    debug_assert!(at <= MAX_HEADER);
    let frame = Frame {
        fin,
        opcode,
        payload,
    };
    Ok(Some((frame, at + len)))
}

/// The payload length and where the mask starts, or `None` when the length is not all there.
fn payload_len(buf: &[u8], short: u8) -> Result<Option<(u64, usize)>, ProtocolError> {
    Ok(match short {
        126 => buf
            .get(2..4)
            .map(|b| (u64::from(u16::from_be_bytes([b[0], b[1]])), 4)),
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(ProtocolError::TooBig);
                }
                Some((len, 10))
            }
            None => None,
        },
        len => Some((u64::from(len), 2)),
    })
}

/// The code of a client's close frame (`None` for an empty one); a one-byte payload, a code a
/// peer may not send, or a reason that is not UTF-8 is a protocol error.
pub fn close_code(payload: &[u8]) -> Result<Option<u16>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::BadClose),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !valid || std::str::from_utf8(reason).is_err() {
                return Err(ProtocolError::BadClose);
            }
            Ok(Some(code))
        }
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
pub(crate) mod tests;
