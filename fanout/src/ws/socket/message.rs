//! Messages out of frames: fragments joined, text checked as UTF-8, control frames passed
//! through between fragments, sizes bounded.

use super::frame::{self, Frame, ProtocolError};

/// A complete message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    /// A binary message (Kubecast has none; only its size was checked).
    Binary,
    Ping(Vec<u8>),
    Pong,
    /// The client's close frame, with its code if it sent one.
    Close(Option<u16>),
}

/// Joins data frames into messages of at most `max` bytes.
pub(super) struct Assembler {
    max: usize,
    /// The opcode and bytes so far of a fragmented message.
    partial: Option<(u8, Vec<u8>)>,
}

impl Assembler {
    pub(super) fn new(max: usize) -> Self {
        Self { max, partial: None }
    }

    /// How many more payload bytes the message being assembled may take.
    pub(super) fn room(&self) -> usize {
        let used = self.partial.as_ref().map_or(0, |(_, bytes)| bytes.len());
        self.max.saturating_sub(used)
    }

    /// Takes one frame; returns the message it completes, if any.
    pub(super) fn push(&mut self, frame: Frame) -> Result<Option<Incoming>, ProtocolError> {
        match frame.opcode {
            frame::OP_PING => Ok(Some(Incoming::Ping(frame.payload))),
            frame::OP_PONG => Ok(Some(Incoming::Pong)),
            frame::OP_CLOSE => Ok(Some(Incoming::Close(frame::close_code(&frame.payload)?))),
            frame::OP_CONTINUATION => {
                let (_, bytes) = self
                    .partial
                    .as_mut()
                    .ok_or(ProtocolError::StrayContinuation)?;
                bytes.extend_from_slice(&frame.payload);
                if !frame.fin {
                    return Ok(None);
                }
                let (opcode, bytes) = self
                    .partial
                    .take()
                    .ok_or(ProtocolError::StrayContinuation)?;
                message(opcode, bytes).map(Some)
            }
            opcode => {
                if self.partial.is_some() {
                    return Err(ProtocolError::UnfinishedMessage);
                }
                if frame.fin {
                    return message(opcode, frame.payload).map(Some);
                }
                self.partial = Some((opcode, frame.payload));
                Ok(None)
            }
        }
    }
}

fn message(opcode: u8, bytes: Vec<u8>) -> Result<Incoming, ProtocolError> {
    if opcode == frame::OP_BINARY {
        return Ok(Incoming::Binary);
    }
    String::from_utf8(bytes)
        .map(Incoming::Text)
        .map_err(|_| ProtocolError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(fin: bool, opcode: u8, payload: &[u8]) -> Frame {
        Frame {
            fin,
            opcode,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn fragments_join_and_control_frames_pass_between_them() {
        let mut asm = Assembler::new(100);
        assert_eq!(asm.push(data(false, frame::OP_TEXT, b"{\"ty")), Ok(None));
        assert_eq!(
            asm.push(data(true, frame::OP_PING, b"p")),
            Ok(Some(Incoming::Ping(b"p".to_vec())))
        );
        assert_eq!(
            asm.push(data(false, frame::OP_CONTINUATION, b"pe\":")),
            Ok(None)
        );
        assert_eq!(
            asm.push(data(true, frame::OP_CONTINUATION, b"1}")),
            Ok(Some(Incoming::Text("{\"type\":1}".into())))
        );
        assert_eq!(asm.room(), 100);
    }

    #[test]
    fn the_size_bound_covers_the_whole_message() {
        let mut asm = Assembler::new(10);
        assert_eq!(asm.push(data(false, frame::OP_BINARY, b"123456")), Ok(None));
        assert_eq!(asm.room(), 4);
    }

    #[test]
    fn misplaced_fragments_and_bad_text_are_protocol_errors() {
        let mut asm = Assembler::new(100);
        assert_eq!(
            asm.push(data(true, frame::OP_CONTINUATION, b"x")),
            Err(ProtocolError::StrayContinuation)
        );
        assert_eq!(asm.push(data(false, frame::OP_TEXT, b"a")), Ok(None));
        assert_eq!(
            asm.push(data(true, frame::OP_TEXT, b"b")),
            Err(ProtocolError::UnfinishedMessage)
        );
        let mut asm = Assembler::new(100);
        assert_eq!(
            asm.push(data(true, frame::OP_TEXT, &[0xC3, 0x28])),
            Err(ProtocolError::InvalidUtf8)
        );
        assert_eq!(
            asm.push(data(true, frame::OP_BINARY, &[0xC3, 0x28])),
            Ok(Some(Incoming::Binary))
        );
    }
}
