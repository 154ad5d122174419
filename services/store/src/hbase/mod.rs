//! `hbase://HOST[:PORT][?table=NAME]`: HBase through its Thrift (v1) gateway (port 9090 by
//! default), the seed's storage.
//!
//! Table `payments` (family `cf`) holds one row per payment under the seed's row key with
//! the payment id appended, `{yyyyMMddHHmmss}_{payment_type}_{originator_id}_{payment_id}`,
//! so two payments never overwrite each other ([`row`] lists the columns; every cell is
//! UTF-8 text). Table `payments_by_id` maps a payment id to its row key and stored revision:
//! it answers `get`, and it is what the revision guard reads. `paymentsctl hbase init`
//! creates both, as the seed's `create_table.hbase` did. Rows the seed's own processors
//! wrote (its row key, its nine columns, no body, no index entry) are read too: scans list
//! them, and `get` finds one by a filtered scan when the index has no entry. Once this store
//! has stored the same payment again, its own row is the payment, and scans pass the seed's
//! over.
//!
//! A batch is one `getRowsWithColumns` on the index, then one `mutateRows` of the payments
//! whose revision is higher than the stored one, then one `mutateRows` of their index rows.
//! HBase has no multi-row transactions: a write cut off between the two leaves a row whose
//! index is behind, which the replay the processor then gets rewrites. The guard is a read
//! then a write, so it relies on one writer per payment, which the processor's partitioning
//! by key gives.

mod connection;
pub mod row;
mod scan;
mod seed_row;

use crate::latest::latest_revisions;
use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
use connection::{Connections, already_exists};
use hbase_thrift::hbase::{BatchMutation, ColumnDescriptor, THbaseSyncClient};
use payments_core::pb;
use row::column;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The payments table's default name.
pub const DEFAULT_TABLE: &str = "payments";
/// The gateway's default port.
pub const DEFAULT_PORT: u16 = 9090;

/// Where an `hbase://` URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbaseLocation {
    /// `host:port` of the Thrift gateway.
    pub address: String,
    /// The payments table.
    pub table: String,
}

impl HbaseLocation {
    /// Parses `hbase://HOST[:PORT][?table=NAME]`, naming what is wrong.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: crate::redact(url),
            reason,
        };
        let rest = url
            .strip_prefix("hbase://")
            .ok_or_else(|| invalid("expected hbase://HOST[:PORT][?table=NAME]".into()))?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        if authority.is_empty() {
            return Err(invalid("no host; expected hbase://HOST[:PORT]".into()));
        }
        let address = match authority.rsplit_once(':') {
            Some((_, port)) if port.parse::<u16>().is_err() => {
                return Err(invalid(format!(
                    "port {port:?} is not a number from 0 to 65535"
                )));
            }
            Some(_) => authority.to_owned(),
            None => format!("{authority}:{DEFAULT_PORT}"),
        };
        let mut table = DEFAULT_TABLE.to_owned();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("table", name)) => {
                    let valid = !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                    if !valid {
                        return Err(invalid(format!(
                            "table name {name:?} must be letters, digits, '_', '-' or '.'"
                        )));
                    }
                    table = name.to_owned();
                }
                _ => {
                    return Err(invalid(format!(
                        "unknown option {pair:?}; the only option is table=NAME"
                    )));
                }
            }
        }
        Ok(Self { address, table })
    }

    /// The id index table that goes with the payments table.
    pub fn index_table(&self) -> String {
        format!("{}_by_id", self.table)
    }
}

/// What `paymentsctl hbase init` did to each table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCreated {
    /// The table.
    pub table: String,
    /// False when it already existed (and was left as it was).
    pub created: bool,
}

/// Creates the payments table and its id index (family `cf`, one version) unless they
/// exist; says which it created.
pub async fn init(url: &str) -> Result<Vec<TableCreated>> {
    let location = HbaseLocation::parse(url)?;
    let connections = Connections::new(location.address.clone());
    let mut report = Vec::new();
    for table in [location.table.clone(), location.index_table()] {
        let name = table.clone().into_bytes();
        let outcome = connections
            .call_raw("createTable", move |c| {
                c.create_table(name, vec![family_descriptor()])
            })
            .await?;
        match outcome {
            Ok(()) => report.push(TableCreated {
                table,
                created: true,
            }),
            Err(e) if already_exists(&e) => report.push(TableCreated {
                table,
                created: false,
            }),
            Err(e) => {
                let (message, _) = connection::explain(e);
                return Err(Error::backend(
                    format!("hbase createTable {table}"),
                    message,
                ));
            }
        }
    }
    Ok(report)
}

/// Family `cf` as the HBase shell's `create 'payments', 'cf'` (the seed's
/// `create_table.hbase`) makes it: one version, no compression, row Bloom filter, block
/// cache on, cells kept forever. Every field is set: the generated Thrift struct defaults to
/// zero values (compression "", time to live 0), which HBase refuses or would expire at once,
/// not to the defaults of HBase's IDL.
fn family_descriptor() -> ColumnDescriptor {
    ColumnDescriptor {
        name: Some(format!("{}:", row::FAMILY).into_bytes()),
        max_versions: Some(1),
        compression: Some("NONE".into()),
        in_memory: Some(false),
        bloom_filter_type: Some("ROW".into()),
        bloom_filter_vector_size: Some(0),
        bloom_filter_nb_hashes: Some(0),
        block_cache_enabled: Some(true),
        time_to_live: Some(i32::MAX),
    }
}

/// Payments in HBase.
pub struct HbaseStore {
    connections: Arc<Connections>,
    location: HbaseLocation,
    described: String,
}

/// One payment's prepared write: its row, its index row, and what the guard compares.
struct PreparedWrite {
    payment_id: Vec<u8>,
    revision: u32,
    row: BatchMutation,
    index_row: BatchMutation,
}

impl HbaseStore {
    /// Connects to the gateway at `url` and checks that both tables exist; a missing table
    /// is an error that says to run `paymentsctl hbase init`.
    pub async fn open(url: &str) -> Result<Self> {
        let location = HbaseLocation::parse(url)?;
        let connections = Connections::new(location.address.clone());
        let tables = connections
            .call("getTableNames", |c| c.get_table_names())
            .await?;
        for table in [location.table.clone(), location.index_table()] {
            if !tables.iter().any(|t| *t == table.as_bytes()) {
                return Err(Error::MissingTable {
                    table,
                    address: location.address.clone(),
                    url: crate::redact(url),
                });
            }
        }
        Ok(Self {
            connections,
            described: format!("hbase://{}?table={}", location.address, location.table),
            location,
        })
    }
}

/// What the id index holds for one payment.
struct IndexEntry {
    /// The payment's row key in the payments table (empty when unreadable).
    row_key: Vec<u8>,
    /// The revision stored (none when unreadable).
    revision: Option<u32>,
}

/// The index entry of each id found in the index, by id.
fn stored_versions(
    client: &mut connection::Client,
    index: &str,
    ids: Vec<Vec<u8>>,
) -> thrift::Result<HashMap<Vec<u8>, IndexEntry>> {
    let columns = vec![
        row::qualified(column::ROW_KEY),
        row::qualified(column::REVISION),
    ];
    let found = client.get_rows_with_columns(index.into(), ids, columns, BTreeMap::new())?;
    Ok(found
        .iter()
        .map(|r| {
            let entry = IndexEntry {
                row_key: row::cell(r, column::ROW_KEY).unwrap_or_default().to_vec(),
                revision: row::revision_of(r),
            };
            (r.row.clone().unwrap_or_default(), entry)
        })
        .collect())
}

/// Payments one Thrift call writes: the processor's batches grow (to `--max-batch-size`)
/// while a sink is busy, and a region server with a 512 MiB heap ran out of memory appending 10,000-row
/// `mutateRows` to its WAL (HBase itself warns above 5,000 rows a batch).
const ROWS_PER_CALL: usize = 2_000;

#[async_trait]
impl Sink for HbaseStore {
    /// The rows hold the seed's columns and the payment as protobuf JSON, so the encodings
    /// given have no use here.
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        _encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        let writes: Vec<PreparedWrite> = latest_revisions(payments)
            .into_iter()
            .map(|payment| {
                let key = payments_core::row_key(payment);
                Ok(PreparedWrite {
                    payment_id: payment.payment_id.clone().into_bytes(),
                    revision: payment.revision,
                    index_row: BatchMutation {
                        row: Some(payment.payment_id.clone().into_bytes()),
                        mutations: Some(row::index_mutations(payment, &key)),
                    },
                    row: BatchMutation {
                        row: Some(key.into_bytes()),
                        mutations: Some(row::payment_mutations(payment)?),
                    },
                })
            })
            .collect::<Result<_>>()?;
        let mut written = 0;
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let chunk: Vec<PreparedWrite> = writes.by_ref().take(ROWS_PER_CALL).collect();
            written += self.upsert_chunk(chunk).await?;
        }
        Ok(written)
    }

    async fn ping(&self) -> Result<()> {
        self.connections
            .call("getTableNames", |c| c.get_table_names())
            .await
            .map(|_| ())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Every write is complete when its call returns; the Thrift connections close when dropped.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

impl HbaseStore {
    /// Writes at most [`ROWS_PER_CALL`] payments: reads their stored revisions, then writes
    /// the newer ones and their index rows.
    async fn upsert_chunk(&self, writes: Vec<PreparedWrite>) -> Result<u64> {
        let table = self.location.table.clone();
        let index = self.location.index_table();
        self.connections
            .call("batch upsert", move |c| {
                let ids = writes.iter().map(|w| w.payment_id.clone()).collect();
                let stored = stored_versions(c, &index, ids)?;
                let mut rows = Vec::with_capacity(writes.len());
                let mut index_rows = Vec::with_capacity(writes.len());
                let mut moved = Vec::new();
                for write in writes {
                    let new_key = write.row.row.clone().unwrap_or_default();
                    if let Some(entry) = stored.get(&write.payment_id) {
                        if entry
                            .revision
                            .is_some_and(|stored| stored >= write.revision)
                        {
                            continue;
                        }
                        // A revision that changed `created_at` moves the row.
                        if !entry.row_key.is_empty() && entry.row_key != new_key {
                            moved.push(entry.row_key.clone());
                        }
                    }
                    rows.push(write.row);
                    index_rows.push(write.index_row);
                }
                let written = rows.len() as u64;
                if written > 0 {
                    c.mutate_rows(table.clone().into_bytes(), rows, BTreeMap::new())?;
                    for old_key in moved {
                        c.delete_all_row(table.clone().into_bytes(), old_key, BTreeMap::new())?;
                    }
                    c.mutate_rows(index.into_bytes(), index_rows, BTreeMap::new())?;
                }
                Ok(written)
            })
            .await
    }
}

#[async_trait]
impl Store for HbaseStore {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        let table = self.location.table.clone();
        let index = self.location.index_table();
        let id = payment_id.as_bytes().to_vec();
        let found = self
            .connections
            .call("get", move |c| {
                let stored = stored_versions(c, &index, vec![id.clone()])?;
                let Some(entry) = stored.get(&id).filter(|e| !e.row_key.is_empty()) else {
                    return Ok(None);
                };
                let rows = c.get_row(table.into_bytes(), entry.row_key.clone(), BTreeMap::new())?;
                Ok(rows.into_iter().next())
            })
            .await?;
        match found {
            Some(found) => row::payment_of(&found).map(Some),
            // Not in the index: a row the seed's processors wrote, if any.
            None => scan::find_unindexed(&self.connections, &self.location.table, payment_id).await,
        }
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        let index = self.location.index_table();
        scan::list(
            &self.connections,
            &self.location.table,
            &index,
            filter,
            page,
        )
        .await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        let index = self.location.index_table();
        scan::stats(&self.connections, &self.location.table, &index, filter).await
    }
}

#[cfg(test)]
mod tests;
