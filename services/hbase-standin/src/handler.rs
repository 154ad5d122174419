//! The stand-in's answers to the HBase Thrift (v1) calls, over [`Tables`]. The calls a
//! payments store makes (tables, families, gets, batched mutations, scanners) behave as
//! HBase's gateway does; the rest (timestamps, versions, counters, regions, ACLs) answer
//! `IOError` naming the call, so nothing pretends to work.

use crate::filter::Filter;
use crate::tables::{Refusal, Scan, Tables};
use hbase_thrift::hbase::{
    AlreadyExists, BatchMutation, Bytes, ColumnDescriptor, HbaseSyncHandler, IOError,
    IllegalArgument, Mutation, ScannerID, TAccessControlEntity, TAppend, TCell, TIncrement,
    TRegionInfo, TRowResult, TScan, TThriftServerType, Text,
};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

type Attributes = BTreeMap<Text, Text>;

/// Serves the Thrift calls from shared in-memory tables.
#[derive(Debug, Clone, Default)]
pub struct StandinHandler {
    tables: Arc<Mutex<Tables>>,
}

fn user_error(refusal: Refusal) -> thrift::Error {
    match refusal {
        Refusal::Io(message) => thrift::Error::User(Box::new(IOError {
            message: Some(message),
            can_retry: Some(false),
        })),
        Refusal::IllegalArgument(message) => thrift::Error::User(Box::new(IllegalArgument {
            message: Some(message),
        })),
        Refusal::AlreadyExists(message) => thrift::Error::User(Box::new(AlreadyExists {
            message: Some(message),
        })),
    }
}

fn unsupported<T>(call: &str) -> thrift::Result<T> {
    Err(user_error(Refusal::Io(format!(
        "the payments HBase stand-in does not implement {call}"
    ))))
}

impl StandinHandler {
    /// Row mutations applied since start: what a test reads to see that a replay wrote
    /// nothing.
    pub fn rows_written(&self) -> u64 {
        self.with(|t| Ok(t.rows_written())).unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tables) -> Result<T, Refusal>) -> thrift::Result<T> {
        let mut tables: MutexGuard<'_, Tables> = match self.tables.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut tables).map_err(user_error)
    }

    fn open(
        &self,
        table: Text,
        from: Vec<u8>,
        stop: Option<Vec<u8>>,
        columns: Vec<Text>,
        filter: Option<Filter>,
    ) -> thrift::Result<ScannerID> {
        self.with(|t| {
            t.open_scanner(Scan {
                table,
                from: Bound::Included(from),
                stop: stop.filter(|s| !s.is_empty()),
                columns,
                filter,
            })
        })
    }
}

/// The smallest key after every key that starts with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl HbaseSyncHandler for StandinHandler {
    fn handle_enable_table(&self, table_name: Bytes) -> thrift::Result<()> {
        self.with(|t| t.set_enabled(&table_name, true))
    }
    fn handle_disable_table(&self, table_name: Bytes) -> thrift::Result<()> {
        self.with(|t| t.set_enabled(&table_name, false))
    }
    fn handle_is_table_enabled(&self, table_name: Bytes) -> thrift::Result<bool> {
        self.with(|t| t.is_enabled(&table_name))
    }
    fn handle_compact(&self, _table_name_or_region_name: Bytes) -> thrift::Result<()> {
        Ok(())
    }
    fn handle_major_compact(&self, _table_name_or_region_name: Bytes) -> thrift::Result<()> {
        Ok(())
    }
    fn handle_get_table_names(&self) -> thrift::Result<Vec<Text>> {
        self.with(|t| Ok(t.names()))
    }
    fn handle_get_table_names_with_is_table_enabled(&self) -> thrift::Result<BTreeMap<Text, bool>> {
        self.with(|t| {
            t.names()
                .into_iter()
                .map(|name| Ok((name.clone(), t.is_enabled(&name)?)))
                .collect()
        })
    }
    fn handle_get_column_descriptors(
        &self,
        table_name: Text,
    ) -> thrift::Result<BTreeMap<Text, ColumnDescriptor>> {
        self.with(|t| t.families(&table_name))
    }
    fn handle_get_table_regions(&self, _table_name: Text) -> thrift::Result<Vec<TRegionInfo>> {
        unsupported("getTableRegions")
    }
    fn handle_create_table(
        &self,
        table_name: Text,
        column_families: Vec<ColumnDescriptor>,
    ) -> thrift::Result<()> {
        self.with(|t| t.create(&table_name, column_families))
    }
    fn handle_delete_table(&self, table_name: Text) -> thrift::Result<()> {
        self.with(|t| t.delete(&table_name))
    }
    fn handle_get(
        &self,
        table_name: Text,
        row: Text,
        column: Text,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TCell>> {
        let rows = self.with(|t| t.get(&table_name, &[row], std::slice::from_ref(&column)))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.columns?.into_values().next())
            .collect())
    }
    fn handle_get_ver(
        &self,
        _table_name: Text,
        _row: Text,
        _column: Text,
        _num_versions: i32,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TCell>> {
        unsupported("getVer (the stand-in keeps one version)")
    }
    fn handle_get_ver_ts(
        &self,
        _table_name: Text,
        _row: Text,
        _column: Text,
        _timestamp: i64,
        _num_versions: i32,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TCell>> {
        unsupported("getVerTs (the stand-in keeps one version)")
    }
    fn handle_get_row(
        &self,
        table_name: Text,
        row: Text,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        self.with(|t| t.get(&table_name, &[row], &[]))
    }
    fn handle_get_row_with_columns(
        &self,
        table_name: Text,
        row: Text,
        columns: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        self.with(|t| t.get(&table_name, &[row], &columns))
    }
    fn handle_get_row_ts(
        &self,
        _table_name: Text,
        _row: Text,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        unsupported("getRowTs")
    }
    fn handle_get_row_with_columns_ts(
        &self,
        _table_name: Text,
        _row: Text,
        _columns: Vec<Text>,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        unsupported("getRowWithColumnsTs")
    }
    fn handle_get_rows(
        &self,
        table_name: Text,
        rows: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        self.with(|t| t.get(&table_name, &rows, &[]))
    }
    fn handle_get_rows_with_columns(
        &self,
        table_name: Text,
        rows: Vec<Text>,
        columns: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        self.with(|t| t.get(&table_name, &rows, &columns))
    }
    fn handle_get_rows_ts(
        &self,
        _table_name: Text,
        _rows: Vec<Text>,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        unsupported("getRowsTs")
    }
    fn handle_get_rows_with_columns_ts(
        &self,
        _table_name: Text,
        _rows: Vec<Text>,
        _columns: Vec<Text>,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<Vec<TRowResult>> {
        unsupported("getRowsWithColumnsTs")
    }
    fn handle_mutate_row(
        &self,
        table_name: Text,
        row: Text,
        mutations: Vec<Mutation>,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        let batch = BatchMutation {
            row: Some(row),
            mutations: Some(mutations),
        };
        self.with(|t| t.mutate(&table_name, vec![batch], None))
    }
    fn handle_mutate_row_ts(
        &self,
        table_name: Text,
        row: Text,
        mutations: Vec<Mutation>,
        timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        let batch = BatchMutation {
            row: Some(row),
            mutations: Some(mutations),
        };
        self.with(|t| t.mutate(&table_name, vec![batch], Some(timestamp)))
    }
    fn handle_mutate_rows(
        &self,
        table_name: Text,
        row_batches: Vec<BatchMutation>,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        self.with(|t| t.mutate(&table_name, row_batches, None))
    }
    fn handle_mutate_rows_ts(
        &self,
        table_name: Text,
        row_batches: Vec<BatchMutation>,
        timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        self.with(|t| t.mutate(&table_name, row_batches, Some(timestamp)))
    }
    fn handle_atomic_increment(
        &self,
        _table_name: Text,
        _row: Text,
        _column: Text,
        _value: i64,
    ) -> thrift::Result<i64> {
        unsupported("atomicIncrement")
    }
    fn handle_delete_all(
        &self,
        table_name: Text,
        row: Text,
        column: Text,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        let batch = BatchMutation {
            row: Some(row),
            mutations: Some(vec![Mutation {
                is_delete: Some(true),
                column: Some(column),
                value: None,
                write_to_w_a_l: Some(true),
            }]),
        };
        self.with(|t| t.mutate(&table_name, vec![batch], None))
    }
    fn handle_delete_all_ts(
        &self,
        _table_name: Text,
        _row: Text,
        _column: Text,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        unsupported("deleteAllTs")
    }
    fn handle_delete_all_row(
        &self,
        table_name: Text,
        row: Text,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        self.with(|t| t.delete_row(&table_name, &row))
    }
    fn handle_increment(&self, _increment: TIncrement) -> thrift::Result<()> {
        unsupported("increment")
    }
    fn handle_increment_rows(&self, _increments: Vec<TIncrement>) -> thrift::Result<()> {
        unsupported("incrementRows")
    }
    fn handle_delete_all_row_ts(
        &self,
        _table_name: Text,
        _row: Text,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<()> {
        unsupported("deleteAllRowTs")
    }
    fn handle_scanner_open_with_scan(
        &self,
        table_name: Text,
        scan: TScan,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        if scan.reversed == Some(true) {
            return unsupported("reversed scans");
        }
        if scan.timestamp.is_some() {
            return unsupported("scans at a timestamp");
        }
        let filter = match scan.filter_string.filter(|f| !f.is_empty()) {
            None => None,
            Some(text) => Some(Filter::parse(&String::from_utf8_lossy(&text)).map_err(
                |reason| {
                    user_error(Refusal::IllegalArgument(format!(
                        "cannot parse filter string: {reason}"
                    )))
                },
            )?),
        };
        self.open(
            table_name,
            scan.start_row.unwrap_or_default(),
            scan.stop_row,
            scan.columns.unwrap_or_default(),
            filter,
        )
    }
    fn handle_scanner_open(
        &self,
        table_name: Text,
        start_row: Text,
        columns: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        self.open(table_name, start_row, None, columns, None)
    }
    fn handle_scanner_open_with_stop(
        &self,
        table_name: Text,
        start_row: Text,
        stop_row: Text,
        columns: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        self.open(table_name, start_row, Some(stop_row), columns, None)
    }
    fn handle_scanner_open_with_prefix(
        &self,
        table_name: Text,
        start_and_prefix: Text,
        columns: Vec<Text>,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        let stop = prefix_end(&start_and_prefix);
        self.open(table_name, start_and_prefix, stop, columns, None)
    }
    fn handle_scanner_open_ts(
        &self,
        _table_name: Text,
        _start_row: Text,
        _columns: Vec<Text>,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        unsupported("scannerOpenTs")
    }
    fn handle_scanner_open_with_stop_ts(
        &self,
        _table_name: Text,
        _start_row: Text,
        _stop_row: Text,
        _columns: Vec<Text>,
        _timestamp: i64,
        _attributes: Attributes,
    ) -> thrift::Result<ScannerID> {
        unsupported("scannerOpenWithStopTs")
    }
    fn handle_scanner_get(&self, id: ScannerID) -> thrift::Result<Vec<TRowResult>> {
        self.with(|t| t.scan_next(id, 1))
    }
    fn handle_scanner_get_list(
        &self,
        id: ScannerID,
        nb_rows: i32,
    ) -> thrift::Result<Vec<TRowResult>> {
        let limit = usize::try_from(nb_rows.max(1)).unwrap_or(1);
        self.with(|t| t.scan_next(id, limit))
    }
    fn handle_scanner_close(&self, id: ScannerID) -> thrift::Result<()> {
        self.with(|t| t.close_scanner(id))
    }
    fn handle_get_region_info(&self, _row: Text) -> thrift::Result<TRegionInfo> {
        unsupported("getRegionInfo")
    }
    fn handle_append(&self, _append: TAppend) -> thrift::Result<Vec<TCell>> {
        unsupported("append")
    }
    fn handle_check_and_put(
        &self,
        _table_name: Text,
        _row: Text,
        _column: Text,
        _value: Text,
        _mput: Mutation,
        _attributes: Attributes,
    ) -> thrift::Result<bool> {
        unsupported("checkAndPut")
    }
    fn handle_get_thrift_server_type(&self) -> thrift::Result<TThriftServerType> {
        Ok(TThriftServerType::ONE)
    }
    fn handle_get_cluster_id(&self) -> thrift::Result<String> {
        Ok("payments-hbase-standin".into())
    }
    fn handle_grant(&self, _info: TAccessControlEntity) -> thrift::Result<bool> {
        unsupported("grant")
    }
    fn handle_revoke(&self, _info: TAccessControlEntity) -> thrift::Result<bool> {
        unsupported("revoke")
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_is_the_first_key_past_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}
