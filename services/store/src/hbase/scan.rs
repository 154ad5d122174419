//! Reads by row-key scans, as the seed's `payment_query.py` meant to: a time range is a
//! start and stop row (row keys begin with `yyyyMMddHHmmss`), and equality conditions on
//! rail, customer, status and currency go to the server as `SingleColumnValueFilter`s.
//! Every row is then checked against the whole filter here, so amounts and anything the
//! server does not filter are exact too.
//!
//! Row keys order payments by second, then rail, originator and id; pages are in
//! (`created_at`, `payment_id`) order, so a page is read to the end of the second it
//! fills in and sorted.
//!
//! A row in the seed's own layout whose payment the id index places in another row (the
//! same payment stored again by this store, as in a cutover that replays the seed's topic)
//! is passed over: the indexed row is the payment, so none is listed or counted twice.

use super::connection::Connections;
use super::row::{self, column};
use crate::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter, Result, Stats};
use hbase_thrift::hbase::{THbaseSyncClient, TRowResult, TScan};
use payments_core::metric_names::STORE_UNREADABLE_ROWS;
use payments_core::pb;
use payments_core::service_error::with_causes;
use payments_core::time::timestamp_micros;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Rows fetched per `scannerGetList` call.
const SCAN_BATCH: i32 = 1000;

/// The row-key prefix of the second holding `micros`.
fn second_prefix(micros: i64) -> String {
    chrono::DateTime::from_timestamp(micros.div_euclid(1_000_000), 0)
        .map(|at| at.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| "00000000000000".into())
}

/// A value quoted for the filter language (quotes doubled).
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn equals(qualifier: &str, value: &str) -> String {
    format!(
        "SingleColumnValueFilter('{}', '{qualifier}', =, {}, true, true)",
        row::FAMILY,
        quoted(&format!("binary:{value}"))
    )
}

fn any_of(qualifier: &str, values: &[&str]) -> Option<String> {
    match values {
        [] => None,
        [one] => Some(equals(qualifier, one)),
        many => Some(format!(
            "({})",
            many.iter()
                .map(|v| equals(qualifier, v))
                .collect::<Vec<_>>()
                .join(" OR ")
        )),
    }
}

/// The scan for `filter` starting at `after`'s second: start and stop rows, family `cf`, and
/// the filter string.
fn scan_for(filter: &PaymentFilter, after: Option<&Cursor>) -> Option<TScan> {
    if let (Some(from), Some(to)) = (filter.created_from_micros, filter.created_to_micros)
        && to <= from
    {
        return None;
    }
    let mut start = filter
        .created_from_micros
        .map(second_prefix)
        .unwrap_or_default();
    if let Some(cursor) = after {
        start = start.max(second_prefix(cursor.created_micros));
    }
    // `created_to` is exclusive: the stop row is the second after the last one wanted.
    let stop = filter
        .created_to_micros
        .map(|to| second_prefix(to.saturating_sub(1).saturating_add(1_000_000)));
    if stop.as_ref().is_some_and(|stop| start >= *stop) {
        return None;
    }
    let types: Vec<&str> = filter
        .payment_types
        .iter()
        .map(|t| row::type_name(*t as i32))
        .collect();
    let statuses: Vec<&str> = filter
        .statuses
        .iter()
        .map(|s| row::status_name(*s as i32))
        .collect();
    let conditions: Vec<(&str, String)> = [
        (column::PAYMENT_TYPE, any_of(column::PAYMENT_TYPE, &types)),
        (column::STATUS, any_of(column::STATUS, &statuses)),
        (
            column::ORIGINATOR_ID,
            filter
                .originator_id
                .as_deref()
                .map(|id| equals(column::ORIGINATOR_ID, id)),
        ),
        (
            column::BENEFICIARY_ID,
            filter
                .beneficiary_id
                .as_deref()
                .map(|id| equals(column::BENEFICIARY_ID, id)),
        ),
        (
            column::AMOUNT_CURRENCY,
            filter
                .currency
                .as_deref()
                .map(|c| equals(column::AMOUNT_CURRENCY, c)),
        ),
    ]
    .into_iter()
    .filter_map(|(qualifier, condition)| Some((qualifier, condition?)))
    .collect();
    let filter_string = (!conditions.is_empty()).then(|| {
        conditions
            .iter()
            .map(|(_, c)| c.as_str())
            .collect::<Vec<_>>()
            .join(" AND ")
            .into_bytes()
    });
    Some(TScan {
        start_row: Some(start.into_bytes()),
        stop_row: stop.map(String::into_bytes),
        timestamp: None,
        // The whole family: a row in the seed's layout is read from its columns.
        columns: Some(vec![row::FAMILY.as_bytes().to_vec()]),
        caching: Some(SCAN_BATCH),
        filter_string,
        batch_size: None,
        sort_columns: None,
        reversed: None,
        cache_blocks: Some(false),
    })
}

/// An open scanner, closed when the read is done (also after a failed read).
struct Scanner {
    connections: Arc<Connections>,
    id: i32,
}

impl Scanner {
    async fn open(connections: &Arc<Connections>, table: &str, scan: TScan) -> Result<Self> {
        let table = table.as_bytes().to_vec();
        let id = connections
            .call("scannerOpenWithScan", move |c| {
                c.scanner_open_with_scan(table, scan, BTreeMap::new())
            })
            .await?;
        Ok(Self {
            connections: connections.clone(),
            id,
        })
    }

    /// The next rows; empty once the scan is done.
    async fn next(&self) -> Result<Vec<TRowResult>> {
        let id = self.id;
        self.connections
            .call("scannerGetList", move |c| {
                c.scanner_get_list(id, SCAN_BATCH)
            })
            .await
    }

    async fn close(self) {
        let id = self.id;
        if let Err(e) = self
            .connections
            .call("scannerClose", move |c| c.scanner_close(id))
            .await
        {
            tracing::warn!(error = with_causes(&e), "hbase scanner not closed");
        }
    }
}

/// Keys of the `rows` in the seed's own layout (no body) whose payment the id index `index`
/// places in another row: that payment was stored again by this store, and its indexed row
/// is the payment.
async fn superseded_seed_rows(
    connections: &Arc<Connections>,
    index: &str,
    rows: &[TRowResult],
) -> Result<HashSet<Vec<u8>>> {
    let seed_rows: Vec<(Vec<u8>, Vec<u8>)> = rows
        .iter()
        .filter(|found| row::cell(found, column::BODY).is_none())
        .filter_map(|found| {
            let id = row::cell(found, column::PAYMENT_ID)?.to_vec();
            Some((found.row.clone()?, id))
        })
        .collect();
    if seed_rows.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = seed_rows.iter().map(|(_, id)| id.clone()).collect();
    let index = index.to_owned();
    let indexed = connections
        .call("getRowsWithColumns", move |c| {
            super::stored_versions(c, &index, ids)
        })
        .await?;
    Ok(seed_rows
        .into_iter()
        .filter(|(key, id)| {
            indexed
                .get(id)
                .is_some_and(|entry| !entry.row_key.is_empty() && entry.row_key != *key)
        })
        .map(|(key, _)| key)
        .collect())
}

/// Calls `each` with every row the scan returns, in row-key order, with its payment when
/// that matches `filter` exactly, until it returns false. A row that holds no readable
/// payment is passed over with a warning (and counted in
/// [`STORE_UNREADABLE_ROWS`]): one such row never stops a scan. A seed-layout row whose
/// payment is stored again in a row of ours (found in `index`) comes without its payment.
async fn for_each_row(
    connections: &Arc<Connections>,
    table: &str,
    index: &str,
    filter: &PaymentFilter,
    after: Option<&Cursor>,
    mut each: impl FnMut(&str, Option<pb::Payment>) -> bool,
) -> Result<()> {
    let Some(scan) = scan_for(filter, after) else {
        return Ok(());
    };
    let scanner = Scanner::open(connections, table, scan).await?;
    let read = async {
        loop {
            let rows = scanner.next().await?;
            if rows.is_empty() {
                return Ok(());
            }
            let superseded = superseded_seed_rows(connections, index, &rows).await?;
            for found in &rows {
                let key = row::key_of(found);
                if found.row.as_ref().is_some_and(|k| superseded.contains(k)) {
                    if !each(&key, None) {
                        return Ok(());
                    }
                    continue;
                }
                let payment = match row::payment_of(found) {
                    Ok(payment) => Some(payment).filter(|p| filter.matches(p)),
                    Err(e) => {
                        tracing::warn!(
                            row_key = %key,
                            error = with_causes(&e),
                            "hbase row holds no readable payment, passed over"
                        );
                        metrics::counter!(STORE_UNREADABLE_ROWS, "system" => "hbase").increment(1);
                        None
                    }
                };
                if !each(&key, payment) {
                    return Ok(());
                }
            }
        }
    };
    let outcome = read.await;
    scanner.close().await;
    outcome
}

/// The payment `payment_id` from a row the id index does not know (one in the seed's own
/// layout, which its processors wrote without an index), found by a scan the server filters
/// on `cf:payment_id`; the earliest such row when there are several.
pub async fn find_unindexed(
    connections: &Arc<Connections>,
    table: &str,
    payment_id: &str,
) -> Result<Option<pb::Payment>> {
    // Every field set: the generated struct's defaults are zero values (a time stamp of 0
    // would find nothing).
    let scan = TScan {
        start_row: None,
        stop_row: None,
        timestamp: None,
        columns: Some(vec![row::FAMILY.as_bytes().to_vec()]),
        caching: Some(SCAN_BATCH),
        filter_string: Some(equals(column::PAYMENT_ID, payment_id).into_bytes()),
        batch_size: None,
        sort_columns: None,
        reversed: None,
        cache_blocks: Some(false),
    };
    let scanner = Scanner::open(connections, table, scan).await?;
    let read = async {
        loop {
            let rows = scanner.next().await?;
            if rows.is_empty() {
                return Ok(None);
            }
            if let Some(payment) = rows
                .iter()
                .filter_map(|r| row::payment_of(r).ok())
                .find(|p| p.payment_id == payment_id)
            {
                return Ok(Some(payment));
            }
        }
    };
    let outcome = read.await;
    scanner.close().await;
    outcome
}

/// One page of payments in (`created_at`, `payment_id`) order.
pub async fn list(
    connections: &Arc<Connections>,
    table: &str,
    index: &str,
    filter: &PaymentFilter,
    page: &PageRequest,
) -> Result<Page> {
    let size = page.size.clamp(1, MAX_PAGE_SIZE) as usize;
    let after = page.after.as_ref();
    let mut found: Vec<(i64, pb::Payment)> = Vec::new();
    // Once one more than a page is found, the second being read is read to its end: rows
    // of a later second come after everything found.
    let mut last_second: Option<String> = None;
    for_each_row(connections, table, index, filter, after, |key, payment| {
        let second = key.get(..14).unwrap_or(key);
        if last_second.as_deref().is_some_and(|last| second > last) {
            return false;
        }
        let Some(payment) = payment else {
            return true;
        };
        let created = payment
            .created_at
            .as_ref()
            .map(timestamp_micros)
            .unwrap_or_default();
        if after.is_none_or(|c| c.precedes(created, &payment.payment_id)) {
            found.push((created, payment));
            if found.len() > size && last_second.is_none() {
                last_second = Some(second.to_owned());
            }
        }
        true
    })
    .await?;
    found.sort_by(|(a, x), (b, y)| (a, &x.payment_id).cmp(&(b, &y.payment_id)));
    let next = (found.len() > size).then(|| {
        let (created, payment) = &found[size - 1];
        Cursor {
            created_micros: *created,
            payment_id: payment.payment_id.clone(),
        }
    });
    found.truncate(size);
    Ok(Page {
        payments: found.into_iter().map(|(_, p)| p).collect(),
        next,
    })
}

/// Counts and totals of the matching payments, from one scan.
pub async fn stats(
    connections: &Arc<Connections>,
    table: &str,
    index: &str,
    filter: &PaymentFilter,
) -> Result<Stats> {
    let mut groups: BTreeMap<(String, String, String), (i64, i128)> = BTreeMap::new();
    for_each_row(connections, table, index, filter, None, |_, payment| {
        let Some(payment) = payment else {
            return true;
        };
        let (minor_units, currency) = payment
            .amount
            .map(|a| (a.minor_units, a.currency))
            .unwrap_or_default();
        let rail = pb::PaymentType::try_from(payment.payment_type)
            .unwrap_or_default()
            .as_str_name()
            .to_owned();
        let status = row::status_name(payment.status).to_owned();
        let group = groups.entry((rail, status, currency)).or_default();
        group.0 += 1;
        group.1 += i128::from(minor_units);
        true
    })
    .await?;
    Ok(Stats::from_groups(groups.into_iter().map(
        |((rail, status, currency), (count, sum))| (rail, status, currency, count, sum),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_become_start_and_stop_rows() {
        // 2024-01-02T03:04:05.5Z and 03:04:07Z (exclusive): seconds 05 and 06.
        let from = 1_704_164_645_500_000;
        let filter = PaymentFilter {
            created_from_micros: Some(from),
            created_to_micros: Some(from + 1_500_000),
            ..PaymentFilter::default()
        };
        let scan = scan_for(&filter, None).unwrap_or_default();
        assert_eq!(scan.start_row.as_deref(), Some(&b"20240102030405"[..]));
        assert_eq!(scan.stop_row.as_deref(), Some(&b"20240102030407"[..]));
        assert_eq!(scan.filter_string, None);
        let empty = PaymentFilter {
            created_from_micros: Some(from),
            created_to_micros: Some(from),
            ..PaymentFilter::default()
        };
        assert!(scan_for(&empty, None).is_none());
    }

    #[test]
    fn equality_conditions_become_server_side_filters_on_scanned_columns() {
        let filter = PaymentFilter {
            payment_types: vec![pb::PaymentType::Ach, pb::PaymentType::Sepa],
            originator_id: Some("O'Neil-1".into()),
            ..PaymentFilter::default()
        };
        let scan = scan_for(&filter, None).unwrap_or_default();
        let text = String::from_utf8(scan.filter_string.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            text,
            "(SingleColumnValueFilter('cf', 'payment_type', =, 'binary:ACH', true, true) OR \
             SingleColumnValueFilter('cf', 'payment_type', =, 'binary:SEPA_CREDIT_TRANSFER', true, true)) \
             AND SingleColumnValueFilter('cf', 'originator_id', =, 'binary:O''Neil-1', true, true)"
        );
        assert_eq!(scan.columns, Some(vec![b"cf".to_vec()]));
    }
}
