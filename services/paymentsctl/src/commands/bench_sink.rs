//! `paymentsctl bench-sink`: how fast a store takes batches, without a bus in front.
//!
//! Upserts `--count` generated payments into `--sink` in batches of `--batch`, as the
//! processor does. For PostgreSQL it then loads the same rows with one binary `COPY` into a
//! copy of the table (same columns, same indexes) — the fastest way into that server — and
//! prints the upsert path's figure as a share of it.

use crate::cli::BenchSinkArgs;
use anyhow::Context;
use payments_core::pb;
use prost::Message;
use sqlx::postgres::PgPoolCopyExt;
use std::time::{Duration, Instant};

/// Runs the benchmark and prints its figures.
pub async fn run(args: BenchSinkArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.count > 0 && args.batch > 0,
        "--count and --batch must be at least 1"
    );
    let seed = super::clock_seed();
    let mut payments = super::bench::generated_now(args.count, seed);
    if args.random_ids {
        scatter_ids(std::sync::Arc::make_mut(&mut payments).as_mut_slice());
    }
    let store = payments_store::open_sink(&args.sink)
        .await
        .with_context(|| format!("opening sink {}", args.sink))?;
    let started = Instant::now();
    for batch in payments.chunks(args.batch) {
        store.upsert_batch(batch).await?;
    }
    let upsert = started.elapsed();
    let ids = if args.random_ids { ", random ids" } else { "" };
    report(
        &format!("upsert into {}{ids}", store.describe()),
        args.count,
        upsert,
    );
    if args.sink.starts_with("postgres") {
        let copy = copy_baseline(&args.sink, &payments).await?;
        report("binary COPY of the same rows", args.count, copy);
        println!(
            "  upsert / COPY ratio: {:.2}",
            copy.as_secs_f64() / upsert.as_secs_f64()
        );
    }
    Ok(())
}

/// Replaces each payment's sequential number (the hex digits after the last `-`) with
/// one SplitMix64 step from it: a bijection of 64-bit numbers, so the ids stay unique, in an
/// order that has nothing to do with the payments'.
fn scatter_ids(payments: &mut [pb::Payment]) {
    for payment in payments {
        let Some((prefix, number)) = payment.payment_id.rsplit_once('-') else {
            continue;
        };
        let Ok(mut state) = u64::from_str_radix(number, 16) else {
            continue;
        };
        let scattered = payments_generator::rng::splitmix64(&mut state);
        payment.payment_id = format!("{prefix}-{scattered:016X}");
    }
}

fn report(what: &str, count: u64, took: Duration) {
    println!(
        "  {what:<48} {count} payments in {:>6.2}s  ({:.0} payments/s)",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
}

/// Appends one binary COPY field.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The rows as PostgreSQL's binary COPY format, with the columns the store writes by
/// default (no JSONB `doc`).
fn binary_copy(payments: &[pb::Payment]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payments.len() * 2_048);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    for p in payments {
        let amount = p.amount.clone().unwrap_or_default();
        let created = p
            .created_at
            .as_ref()
            .map(payments_core::time::timestamp_micros)
            .unwrap_or_default();
        let party =
            |x: &Option<pb::Party>| x.as_ref().map(|p| p.party_id.clone()).unwrap_or_default();
        out.extend_from_slice(&11i16.to_be_bytes());
        field(&mut out, p.payment_id.as_bytes());
        field(&mut out, &i64::from(p.revision).to_be_bytes());
        field(&mut out, &p.payment_type.to_be_bytes());
        field(&mut out, &p.status.to_be_bytes());
        field(&mut out, &created.to_be_bytes());
        field(&mut out, party(&p.originator).as_bytes());
        field(&mut out, party(&p.beneficiary).as_bytes());
        field(&mut out, &amount.minor_units.to_be_bytes());
        field(&mut out, amount.currency.as_bytes());
        field(&mut out, payments_core::row_key(p).as_bytes());
        field(&mut out, &p.encode_to_vec());
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

/// Loads `payments` with one binary COPY into a scratch copy of the payments table.
async fn copy_baseline(url: &str, payments: &[pb::Payment]) -> anyhow::Result<Duration> {
    let pool = sqlx::PgPool::connect(url).await?;
    let table = format!("payments_copy_bench_{}", super::clock_seed());
    sqlx::query(&format!(
        "CREATE TABLE {table} (LIKE payments INCLUDING ALL)"
    ))
    .execute(&pool)
    .await?;
    let data = binary_copy(payments);
    let started = Instant::now();
    let mut copy = pool
        .copy_in_raw(&format!(
            "COPY {table} (payment_id, revision, payment_type, status, created_at, \
                 originator_id, beneficiary_id, amount_minor, currency, row_key, body) \
                 FROM STDIN (FORMAT binary)"
        ))
        .await?;
    for chunk in data.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    let rows = copy.finish().await?;
    let took = started.elapsed();
    anyhow::ensure!(
        rows == payments.len() as u64,
        "COPY loaded {rows} of {} rows",
        payments.len()
    );
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await?;
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scattered_ids_stay_unique_keep_their_rail_and_lose_their_order() {
        let mut payments = super::super::bench::generated_now(10_000, 4)
            .as_ref()
            .clone();
        let before: Vec<String> = payments.iter().map(|p| p.payment_id.clone()).collect();
        scatter_ids(&mut payments);
        let after: Vec<&str> = payments.iter().map(|p| p.payment_id.as_str()).collect();
        let unique: std::collections::HashSet<&&str> = after.iter().collect();
        assert_eq!(unique.len(), after.len());
        for (old, new) in before.iter().zip(&after) {
            assert_eq!(
                old.rsplit_once('-').unwrap().0,
                new.rsplit_once('-').unwrap().0
            );
            assert_eq!(new.len(), old.len());
        }
        // Within a rail, the generator's ids ascend; scattered, about half of them do.
        let ascending_within_rails = |ids: &[&str]| {
            let mut last: std::collections::HashMap<&str, &str> = Default::default();
            ids.iter()
                .filter(|id| {
                    let rail = id.rsplit_once('-').unwrap().0;
                    last.insert(rail, id).is_some_and(|before| before < **id)
                })
                .count()
        };
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        assert!(ascending_within_rails(&before) > before.len() * 99 / 100);
        let ascending = ascending_within_rails(&after);
        assert!(
            ascending < after.len() * 3 / 5,
            "{ascending} of {} ascend",
            after.len()
        );
    }
}
