//! `--shard i/n`: part `i` of `n` disjoint, deterministic parts of one run. Payments go to
//! shards by blocks of 16 — payment `k` belongs to shard `(k / 16) mod n`. A payment is the
//! same whichever process makes it (its scenario label included, though a scenario's
//! payments spread over several shards), so the union of the `n` shards is exactly the
//! unsharded run.

use std::fmt;

/// Consecutive payments that go to the same shard.
pub const BLOCK: u64 = 16;
use std::str::FromStr;

/// One part of a run split `count` ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl Shard {
    /// The whole run, unsplit.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The payment numbers of this shard among the first `total` of the run.
    pub fn indices(&self, total: u64) -> impl Iterator<Item = u64> + use<> {
        let (index, count) = (self.index, self.count.max(1));
        (0..total).filter(move |i| (i / BLOCK) % count == index)
    }

    /// How many payments of the first `total` fall in this shard.
    pub fn len(&self, total: u64) -> u64 {
        let cycle = BLOCK * self.count.max(1);
        let rest = (total % cycle)
            .saturating_sub(self.index * BLOCK)
            .min(BLOCK);
        total / cycle * BLOCK + rest
    }

    /// Whether this shard holds none of the first `total` payments.
    pub fn is_empty(&self, total: u64) -> bool {
        self.len(total) == 0
    }
}

/// Why a `--shard` value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard {0:?}: expected I/N with N >= 1 and 0 <= I < N, e.g. 0/4")]
pub struct ShardError(String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ShardError(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GeneratorConfig, PaymentGenerator};
    use prost::Message;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn shard_union_is_the_unsharded_output_for_every_split() {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 21,
            ..Default::default()
        });
        for total in [0u64, 1, 7, 100, 1_001] {
            let whole: Vec<Vec<u8>> = (0..total)
                .map(|i| generator.payment(i).encode_to_vec())
                .collect();
            for count in 1..=7u64 {
                let mut union: Vec<(u64, Vec<u8>)> = Vec::new();
                for index in 0..count {
                    let shard = Shard { index, count };
                    let part: Vec<(u64, Vec<u8>)> = shard
                        .indices(total)
                        .map(|i| (i, generator.payment(i).encode_to_vec()))
                        .collect();
                    assert_eq!(part.len() as u64, shard.len(total));
                    union.extend(part);
                }
                union.sort_by_key(|(i, _)| *i);
                let bytes: Vec<Vec<u8>> = union.into_iter().map(|(_, b)| b).collect();
                assert_eq!(bytes, whole, "{total} payments split {count} ways");
            }
        }
    }
}
