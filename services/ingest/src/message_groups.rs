//! [`MessageGroups`]: how our clients pack payments into the messages of a `SubmitPayments`
//! stream.
//!
//! Each message costs both ends its own gRPC framing, HTTP/2 bookkeeping and a pass of the
//! server's stream loop; a payment a message, that was a sixth of the CPU ingest over gRPC
//! into Kafka took (`perf`, `paymentsctl bench-kafka`). A few hundred payments a message
//! pay it once for all of them, and each payment is still a record of its own.

/// Most payments one message carries.
pub const PAYMENTS_PER_MESSAGE: usize = 256;

/// Most bytes of payments one message carries: a quarter of the 4 MiB a server takes in one
/// message, so that a group of large payments still fits with room to spare.
pub const BYTES_PER_MESSAGE: usize = 1 << 20;

/// Consecutive groups of items, in order, each of at most [`PAYMENTS_PER_MESSAGE`] items and
/// [`BYTES_PER_MESSAGE`] bytes as `bytes` counts them; an item larger than that alone is a
/// group of its own. Every item is in exactly one group, and no group is empty.
pub struct MessageGroups<I: Iterator, F> {
    items: std::iter::Peekable<I>,
    bytes: F,
    per_message: usize,
}

impl<I: Iterator, F: Fn(&I::Item) -> usize> MessageGroups<I, F> {
    /// `items` grouped as our clients send them, `bytes` saying how large each is encoded.
    pub fn new(items: impl IntoIterator<IntoIter = I>, bytes: F) -> Self {
        Self::with_limit(items, bytes, PAYMENTS_PER_MESSAGE)
    }

    /// As [`MessageGroups::new`], with at most `per_message` items a group (at least one).
    pub fn with_limit(
        items: impl IntoIterator<IntoIter = I>,
        bytes: F,
        per_message: usize,
    ) -> Self {
        Self {
            items: items.into_iter().peekable(),
            bytes,
            per_message: per_message.max(1),
        }
    }
}

impl<I: Iterator, F: Fn(&I::Item) -> usize> Iterator for MessageGroups<I, F> {
    type Item = Vec<I::Item>;

    fn next(&mut self) -> Option<Vec<I::Item>> {
        let first = self.items.next()?;
        let mut size = (self.bytes)(&first);
        let mut group = Vec::with_capacity(self.per_message.min(64));
        group.push(first);
        while group.len() < self.per_message {
            let Some(next) = self.items.peek() else {
                break;
            };
            size += (self.bytes)(next);
            if size > BYTES_PER_MESSAGE {
                break;
            }
            group.extend(self.items.next());
        }
        Some(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(groups: impl Iterator<Item = Vec<usize>>) -> Vec<Vec<usize>> {
        groups.collect()
    }

    #[test]
    fn groups_keep_every_item_in_order_within_both_limits() {
        let items: Vec<usize> = (0..1000).map(|i| 100 + (i * 7919) % 9000).collect();
        let groups = sizes(MessageGroups::new(items.clone(), |&b| b));
        assert_eq!(groups.concat(), items, "every item once, in order");
        for group in &groups {
            assert!(!group.is_empty() && group.len() <= PAYMENTS_PER_MESSAGE);
            assert!(group.iter().sum::<usize>() <= BYTES_PER_MESSAGE);
        }
        assert!(groups.len() < items.len() / 100, "{} groups", groups.len());
    }

    #[test]
    fn an_item_above_the_byte_limit_is_a_group_of_its_own() {
        let big = BYTES_PER_MESSAGE + 1;
        let groups = sizes(MessageGroups::new(vec![10, big, 10, 10], |&b| b));
        assert_eq!(groups, [vec![10], vec![big], vec![10, 10]]);
    }

    #[test]
    fn the_count_limit_splits_small_items_and_no_group_is_empty() {
        let groups = sizes(MessageGroups::with_limit(vec![1; 7], |&b| b, 3));
        assert_eq!(groups, [vec![1; 3], vec![1; 3], vec![1]]);
        assert_eq!(
            sizes(MessageGroups::new(Vec::<usize>::new(), |&b| b)),
            Vec::<Vec<usize>>::new()
        );
        let one_each = sizes(MessageGroups::with_limit(vec![1, 1], |&b| b, 0));
        assert_eq!(one_each, [vec![1], vec![1]], "a limit of 0 is taken as 1");
    }
}
