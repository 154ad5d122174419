//! The stand-in's data: tables of sorted rows, each a sorted map of `family:qualifier` to
//! the latest cell, and the open scanners. One version per cell, no TTLs, nothing on disk.

use crate::filter::Filter;
use hbase_thrift::hbase::{BatchMutation, ColumnDescriptor, Mutation, TCell, TRowResult};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why an operation was refused, in the exception HBase's gateway would throw.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// `IOError`: missing table or family, server-side failures.
    Io(String),
    /// `IllegalArgument`: a malformed request.
    IllegalArgument(String),
    /// `AlreadyExists`: creating a table that exists.
    AlreadyExists(String),
}

/// A row: `family:qualifier` to (value, timestamp in milliseconds).
type Row = BTreeMap<Vec<u8>, (Vec<u8>, i64)>;

#[derive(Debug, Default)]
struct Table {
    families: BTreeMap<Vec<u8>, ColumnDescriptor>,
    enabled: bool,
    rows: BTreeMap<Vec<u8>, Row>,
}

/// Where a scanner is and what it returns.
#[derive(Debug)]
pub struct Scan {
    /// The table scanned.
    pub table: Vec<u8>,
    /// The first row still to return.
    pub from: Bound<Vec<u8>>,
    /// The first row not to return (exclusive), if any.
    pub stop: Option<Vec<u8>>,
    /// Requested columns (`family` or `family:qualifier`); empty for all.
    pub columns: Vec<Vec<u8>>,
    /// Server-side filter.
    pub filter: Option<Filter>,
}

/// Every table and open scanner.
#[derive(Debug, Default)]
pub struct Tables {
    tables: BTreeMap<Vec<u8>, Table>,
    scanners: HashMap<i32, Scan>,
    next_scanner: i32,
    rows_written: u64,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The family of a `family:qualifier` column (all of it when there is no colon).
fn family_of(column: &[u8]) -> &[u8] {
    column
        .iter()
        .position(|b| *b == b':')
        .map_or(column, |i| &column[..i])
}

/// Whether `column` is selected by a scan's column list.
fn selected(columns: &[Vec<u8>], column: &[u8]) -> bool {
    columns.is_empty()
        || columns.iter().any(|wanted| {
            wanted.as_slice() == column
                || (!wanted.contains(&b':') && family_of(column) == wanted.as_slice())
        })
}

fn project(key: &[u8], row: &Row, columns: &[Vec<u8>]) -> Option<TRowResult> {
    let cells: BTreeMap<Vec<u8>, TCell> = row
        .iter()
        .filter(|(column, _)| selected(columns, column))
        .map(|(column, (value, timestamp))| {
            (
                column.clone(),
                TCell {
                    value: Some(value.clone()),
                    timestamp: Some(*timestamp),
                },
            )
        })
        .collect();
    (!cells.is_empty()).then(|| TRowResult {
        row: Some(key.to_vec()),
        columns: Some(cells),
        sorted_columns: None,
    })
}

impl Tables {
    fn table(&self, name: &[u8]) -> Result<&Table, Refusal> {
        self.tables
            .get(name)
            .ok_or_else(|| Refusal::Io(format!("TableNotFoundException: {}", text(name))))
    }

    fn table_mut(&mut self, name: &[u8]) -> Result<&mut Table, Refusal> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| Refusal::Io(format!("TableNotFoundException: {}", text(name))))
    }

    /// Creates a table with these families (names may end in `:`, as HBase allows).
    pub fn create(&mut self, name: &[u8], families: Vec<ColumnDescriptor>) -> Result<(), Refusal> {
        if name.is_empty() {
            return Err(Refusal::IllegalArgument("table name is empty".into()));
        }
        if self.tables.contains_key(name) {
            return Err(Refusal::AlreadyExists(format!(
                "table {} already exists",
                text(name)
            )));
        }
        if families.is_empty() {
            return Err(Refusal::IllegalArgument(
                "a table needs at least one column family".into(),
            ));
        }
        let mut table = Table {
            enabled: true,
            ..Table::default()
        };
        for mut family in families {
            let mut family_name = family.name.clone().unwrap_or_default();
            if family_name.last() == Some(&b':') {
                family_name.pop();
            }
            if family_name.is_empty() {
                return Err(Refusal::IllegalArgument(
                    "column family name is empty".into(),
                ));
            }
            family.name = Some(family_name.clone());
            table.families.insert(family_name, family);
        }
        self.tables.insert(name.to_vec(), table);
        Ok(())
    }

    /// Deletes a disabled table.
    pub fn delete(&mut self, name: &[u8]) -> Result<(), Refusal> {
        if self.table(name)?.enabled {
            return Err(Refusal::Io(format!(
                "TableNotDisabledException: {}",
                text(name)
            )));
        }
        self.tables.remove(name);
        Ok(())
    }

    /// Enables or disables a table.
    pub fn set_enabled(&mut self, name: &[u8], enabled: bool) -> Result<(), Refusal> {
        self.table_mut(name)?.enabled = enabled;
        Ok(())
    }

    /// Whether the table is enabled.
    pub fn is_enabled(&self, name: &[u8]) -> Result<bool, Refusal> {
        Ok(self.table(name)?.enabled)
    }

    /// Table names, sorted.
    pub fn names(&self) -> Vec<Vec<u8>> {
        self.tables.keys().cloned().collect()
    }

    /// The table's column families, keyed `family:` as HBase's gateway returns them.
    pub fn families(&self, name: &[u8]) -> Result<BTreeMap<Vec<u8>, ColumnDescriptor>, Refusal> {
        Ok(self
            .table(name)?
            .families
            .iter()
            .map(|(family, descriptor)| {
                let mut key = family.clone();
                key.push(b':');
                let mut descriptor = descriptor.clone();
                descriptor.name = Some(key.clone());
                (key, descriptor)
            })
            .collect())
    }

    fn enabled_table_mut(&mut self, name: &[u8]) -> Result<&mut Table, Refusal> {
        let table = self.table_mut(name)?;
        if !table.enabled {
            return Err(Refusal::Io(format!(
                "TableNotEnabledException: {}",
                text(name)
            )));
        }
        Ok(table)
    }

    /// Applies row batches: checked first (every family must exist), then applied, so a
    /// refused batch changes nothing.
    pub fn mutate(
        &mut self,
        name: &[u8],
        batches: Vec<BatchMutation>,
        timestamp: Option<i64>,
    ) -> Result<(), Refusal> {
        let table = self.enabled_table_mut(name)?;
        for batch in &batches {
            if batch.row.as_ref().is_none_or(Vec::is_empty) {
                return Err(Refusal::IllegalArgument("a mutation has no row key".into()));
            }
            for mutation in batch.mutations.iter().flatten() {
                let column = mutation.column.as_deref().unwrap_or_default();
                if !table.families.contains_key(family_of(column)) {
                    return Err(Refusal::Io(format!(
                        "NoSuchColumnFamilyException: column family {} does not exist in table {}",
                        text(family_of(column)),
                        text(name)
                    )));
                }
                if !mutation.is_delete.unwrap_or(false) && mutation.value.is_none() {
                    return Err(Refusal::IllegalArgument(format!(
                        "put of {} has no value",
                        text(column)
                    )));
                }
            }
        }
        let timestamp = timestamp.unwrap_or_else(now_millis);
        self.rows_written += batches.len() as u64;
        let table = self.enabled_table_mut(name)?;
        for batch in batches {
            let key = batch.row.unwrap_or_default();
            let row = table.rows.entry(key.clone()).or_default();
            for Mutation {
                is_delete,
                column,
                value,
                ..
            } in batch.mutations.unwrap_or_default()
            {
                let column = column.unwrap_or_default();
                if is_delete.unwrap_or(false) {
                    if column.contains(&b':') {
                        row.remove(&column);
                    } else {
                        row.retain(|c, _| family_of(c) != column.as_slice());
                    }
                } else {
                    row.insert(column, (value.unwrap_or_default(), timestamp));
                }
            }
            if row.is_empty() {
                table.rows.remove(&key);
            }
        }
        Ok(())
    }

    /// Row mutations applied since start (each row of each batch counts once).
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// Deletes a whole row.
    pub fn delete_row(&mut self, name: &[u8], row: &[u8]) -> Result<(), Refusal> {
        self.enabled_table_mut(name)?.rows.remove(row);
        Ok(())
    }

    /// The rows that exist among `rows`, with the requested columns, in request order.
    pub fn get(
        &self,
        name: &[u8],
        rows: &[Vec<u8>],
        columns: &[Vec<u8>],
    ) -> Result<Vec<TRowResult>, Refusal> {
        let table = self.table(name)?;
        Ok(rows
            .iter()
            .filter_map(|key| project(key, table.rows.get(key)?, columns))
            .collect())
    }

    /// Opens a scanner and returns its id.
    pub fn open_scanner(&mut self, scan: Scan) -> Result<i32, Refusal> {
        self.table(&scan.table)?;
        self.next_scanner += 1;
        self.scanners.insert(self.next_scanner, scan);
        Ok(self.next_scanner)
    }

    /// Up to `limit` more rows of a scanner; empty once it is exhausted.
    pub fn scan_next(&mut self, id: i32, limit: usize) -> Result<Vec<TRowResult>, Refusal> {
        let scan = self
            .scanners
            .get_mut(&id)
            .ok_or_else(|| Refusal::IllegalArgument(format!("no open scanner with id {id}")))?;
        let table = self
            .tables
            .get(&scan.table)
            .ok_or_else(|| Refusal::Io(format!("TableNotFoundException: {}", text(&scan.table))))?;
        let upper = scan.stop.clone().map_or(Bound::Unbounded, Bound::Excluded);
        let mut out = Vec::new();
        let mut last = None;
        for (key, row) in table.rows.range((scan.from.clone(), upper)) {
            if out.len() == limit {
                break;
            }
            last = Some(key.clone());
            let Some(result) = project(key, row, &scan.columns) else {
                continue;
            };
            if let Some(filter) = &scan.filter {
                let cells = result.columns.as_ref();
                let lookup = |column: &[u8]| {
                    cells
                        .and_then(|c| c.get(column))
                        .and_then(|cell| cell.value.as_deref())
                };
                if !filter.passes(key, &lookup) {
                    continue;
                }
            }
            out.push(result);
        }
        if let Some(last) = last {
            scan.from = Bound::Excluded(last);
        }
        Ok(out)
    }

    /// Closes a scanner.
    pub fn close_scanner(&mut self, id: i32) -> Result<(), Refusal> {
        self.scanners
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| Refusal::IllegalArgument(format!("no open scanner with id {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(row: &str, column: &str, value: &str) -> BatchMutation {
        BatchMutation {
            row: Some(row.into()),
            mutations: Some(vec![Mutation {
                is_delete: Some(false),
                column: Some(column.into()),
                value: Some(value.into()),
                write_to_w_a_l: Some(true),
            }]),
        }
    }

    fn tables() -> Tables {
        let mut t = Tables::default();
        let family = ColumnDescriptor {
            name: Some(b"cf:".to_vec()),
            ..ColumnDescriptor::default()
        };
        assert_eq!(t.create(b"t", vec![family]), Ok(()));
        t
    }

    #[test]
    fn a_batch_naming_a_missing_family_changes_nothing() {
        let mut t = tables();
        let refused = t.mutate(
            b"t",
            vec![put("a", "cf:x", "1"), put("b", "nope:x", "2")],
            None,
        );
        assert!(matches!(refused, Err(Refusal::Io(m)) if m.contains("NoSuchColumnFamily")));
        assert!(
            t.get(b"t", &[b"a".to_vec()], &[])
                .unwrap_or_default()
                .is_empty()
        );
    }

    #[test]
    fn scanners_resume_where_they_stopped_and_honour_the_stop_row() {
        let mut t = tables();
        let rows = ["a", "b", "c", "d"].map(|r| put(r, "cf:x", r)).to_vec();
        assert_eq!(t.mutate(b"t", rows, None), Ok(()));
        let id = t
            .open_scanner(Scan {
                table: b"t".to_vec(),
                from: Bound::Included(b"b".to_vec()),
                stop: Some(b"d".to_vec()),
                columns: vec![b"cf".to_vec()],
                filter: None,
            })
            .unwrap_or_default();
        let keys = |rows: Vec<TRowResult>| -> Vec<Vec<u8>> {
            rows.into_iter().filter_map(|r| r.row).collect()
        };
        assert_eq!(
            keys(t.scan_next(id, 1).unwrap_or_default()),
            vec![b"b".to_vec()]
        );
        assert_eq!(
            keys(t.scan_next(id, 5).unwrap_or_default()),
            vec![b"c".to_vec()]
        );
        assert!(t.scan_next(id, 5).unwrap_or_default().is_empty());
        assert_eq!(t.close_scanner(id), Ok(()));
        assert!(t.scan_next(id, 5).is_err());
    }

    #[test]
    fn creating_an_existing_table_is_refused() {
        let mut t = tables();
        assert!(matches!(
            t.create(b"t", vec![ColumnDescriptor::default()]),
            Err(Refusal::AlreadyExists(_))
        ));
    }
}
