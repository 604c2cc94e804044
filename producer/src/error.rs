//! The producer's errors.

use crate::publish::PublishError;

pub type Result<T, E = ProducerError> = std::result::Result<T, E>;

/// Why the producer stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    #[error("publishing to the event log failed")]
    Publish(#[from] PublishError),
    #[error("every watcher stopped")]
    WatchersStopped,
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl ProducerError {
    /// Whether another producer took over the log (the expected way for an old leader to stop).
    pub fn is_superseded(&self) -> bool {
        matches!(
            self,
            ProducerError::Publish(PublishError::Superseded { .. })
        )
    }
}
