//! The wire protocol (DESIGN §2–§3): positions, events as stored and sent, subscription filters and
//! the frames exchanged on `/ws`. Events are encoded once, by the producer; everything downstream
//! forwards those bytes (`StoredEvent::raw`) and only parses the small header it needs.

#[cfg(test)]
mod client_frame_props;
mod event;
mod filter;
pub mod frames;
mod position;

pub use event::{Event, EventHead, Op, StoredEvent, object_key};
pub use filter::Filter;
pub use frames::ClientFrame;
pub use position::{Epoch, ParseSeqError, Seq};

/// Version of the WebSocket/HTTP protocol announced in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
