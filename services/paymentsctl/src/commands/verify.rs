//! `paymentsctl verify`: do the configured stores hold the same payments?
//!
//! Every store lists its payments in the same (`created_at`, `payment_id`) order, so the
//! stores are compared by walking their listings side by side (a merge join): memory stays
//! at one page per store however many payments there are. A payment differs when a store
//! lacks it, holds another revision, or holds different content (a digest of its protobuf
//! encoding).

use crate::cli::VerifyArgs;
use anyhow::Context;
use payments_core::pb;
use payments_core::time::timestamp_micros;
use payments_store::{PageRequest, PaymentFilter, Store};
use prost::Message;
use std::collections::VecDeque;
use std::sync::Arc;

/// One store's listing, read a page at a time.
struct Listing {
    store: Arc<dyn Store>,
    page: PageRequest,
    buffered: VecDeque<pb::Payment>,
    done: bool,
    count: u64,
}

impl Listing {
    /// The next payment in order, without taking it.
    async fn peek(&mut self) -> anyhow::Result<Option<&pb::Payment>> {
        if self.buffered.is_empty() && !self.done {
            let page = self
                .store
                .list(&PaymentFilter::default(), &self.page)
                .await
                .with_context(|| format!("listing {}", self.store.describe()))?;
            self.buffered.extend(page.payments);
            match page.next {
                Some(next) => self.page.after = Some(next),
                None => self.done = true,
            }
        }
        Ok(self.buffered.front())
    }
}

/// 64-bit FNV-1a of the payment's protobuf encoding: equal payments, equal digests.
pub fn digest(payment: &pb::Payment) -> u64 {
    payment
        .encode_to_vec()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

fn order_key(payment: &pb::Payment) -> (i64, &str) {
    (
        payment
            .created_at
            .as_ref()
            .map(timestamp_micros)
            .unwrap_or_default(),
        payment.payment_id.as_str(),
    )
}

/// Compares the stores; prints every difference (up to `--max-differences`) and a
/// summary; fails when any store differs.
pub async fn run(args: VerifyArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.stores.len() >= 2,
        "--store needs at least two stores to compare, got {}",
        args.stores.len()
    );
    let mut listings = Vec::with_capacity(args.stores.len());
    for url in &args.stores {
        let store = payments_store::open(url)
            .await
            .with_context(|| format!("opening store {url}"))?;
        listings.push(Listing {
            store,
            page: PageRequest {
                size: payments_store::MAX_PAGE_SIZE,
                after: None,
            },
            buffered: VecDeque::new(),
            done: false,
            count: 0,
        });
    }
    let names: Vec<String> = listings.iter().map(|l| l.store.describe()).collect();
    let (mut compared, mut differences) = (0u64, 0u64);
    loop {
        // The smallest key at the head of any listing.
        let mut smallest: Option<(i64, String)> = None;
        for listing in &mut listings {
            if let Some(head) = listing.peek().await? {
                let (micros, id) = order_key(head);
                if smallest
                    .as_ref()
                    .is_none_or(|(m, i)| (micros, id) < (*m, i.as_str()))
                {
                    smallest = Some((micros, id.to_owned()));
                }
            }
        }
        let Some((micros, id)) = smallest else { break };
        // What each store holds under that key.
        let mut held: Vec<Option<(u32, u64)>> = Vec::with_capacity(listings.len());
        for listing in &mut listings {
            let matches = listing
                .peek()
                .await?
                .is_some_and(|head| order_key(head) == (micros, id.as_str()));
            held.push(if matches {
                listing.count += 1;
                listing
                    .buffered
                    .pop_front()
                    .map(|p| (p.revision, digest(&p)))
            } else {
                None
            });
        }
        compared += 1;
        let reference = held.iter().flatten().next().copied();
        if held.iter().all(|h| *h == reference) {
            continue;
        }
        differences += 1;
        if differences <= args.max_differences {
            let what: Vec<String> = held
                .iter()
                .zip(&names)
                .map(|(h, name)| match h {
                    None => format!("{name}: missing"),
                    Some((revision, digest)) => {
                        format!("{name}: revision {revision} digest {digest:016x}")
                    }
                })
                .collect();
            println!("differs {id}: {}", what.join("; "));
        }
    }
    for (listing, name) in listings.iter().zip(&names) {
        println!("{name}: {} payments", listing.count);
    }
    if differences == 0 {
        println!("verified: {compared} payments, no difference");
        Ok(())
    } else {
        anyhow::bail!("{differences} of {compared} payments differ between the stores")
    }
}
