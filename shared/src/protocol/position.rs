//! Log positions: a `Seq` is meaningful only together with its `Epoch` (DESIGN §1).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Position in one epoch of a cluster's log. Contiguous, starting at 1; 0 means "before the first".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a `since` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSeqError {
    #[error("must not be empty")]
    Empty,
    #[error("must be a non-negative integer (got {0:?})")]
    NotANumber(String),
}

impl FromStr for Seq {
    type Err = ParseSeqError;

    /// Accepts plain decimal digits only: no sign, no spaces, no exponent, at most u64::MAX.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ParseSeqError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseSeqError::NotANumber(truncate(s)));
        }
        s.parse::<u64>()
            .map(Seq)
            .map_err(|_| ParseSeqError::NotANumber(truncate(s)))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

/// Opaque identifier of one incarnation of a log, created with it. A new epoch starts whenever the
/// log was lost or rolled back, so `(epoch, seq)` is never reused with a different payload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub String);

impl Epoch {
    /// A fresh random epoch (12 hex digits of a v4 UUID).
    pub fn generate() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Epoch(id[..12].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn since_accepts_plain_digits() {
        assert_eq!("0".parse::<Seq>(), Ok(Seq(0)));
        assert_eq!("1042".parse::<Seq>(), Ok(Seq(1042)));
        assert_eq!("18446744073709551615".parse::<Seq>(), Ok(Seq(u64::MAX)));
    }

    #[test]
    fn since_refuses_signs_spaces_overflow_and_empty() {
        for bad in [
            "-1",
            "+1",
            " 1",
            "1 ",
            "1e3",
            "0x10",
            "18446744073709551616",
            "abc",
        ] {
            assert!(bad.parse::<Seq>().is_err(), "{bad} should be refused");
        }
        assert_eq!("".parse::<Seq>(), Err(ParseSeqError::Empty));
    }

    #[test]
    fn generated_epochs_differ() {
        assert_ne!(Epoch::generate(), Epoch::generate());
        assert_eq!(Epoch::generate().as_str().len(), 12);
    }

    proptest! {
        #[test]
        fn since_round_trips_every_u64(n in any::<u64>()) {
            prop_assert_eq!(n.to_string().parse::<Seq>(), Ok(Seq(n)));
        }

        #[test]
        fn since_never_panics(s in ".*") {
            let _ = s.parse::<Seq>();
        }
    }
}
