//! Payment file formats, each written from a slice of payments:
//!
//! - [`Format::Jsonl`]: one protobuf-JSON payment per line.
//! - [`Format::SeedJson`]: the seed system's `{"transactions": [...]}` document.
//! - [`Format::Csv`]: the seed's flat HBase columns, RFC 4180 quoting.
//! - [`Format::Nacha`]: a NACHA ACH file of the ACH payments (94-character records, batch
//!   and file controls, entry hash, blocks of ten).
//! - [`Format::Pacs008`]: ISO 20022 `pacs.008.001.08` XML of the wires and SEPA credit
//!   transfers.
//!
//! The bank messages a lifecycle produces (`generate --lifecycle`), linked to the files above
//! of the same payments:
//!
//! - [`Format::NachaReturns`]: a NACHA returns file, a return entry with addenda 99 per
//!   returned ACH entry, naming the original's trace number and receiving DFI.
//! - [`Format::Pacs002`]: ISO 20022 `pacs.002.001.10` status reports of the pacs.008 file's
//!   payments.
//! - [`Format::Pacs004`]: ISO 20022 `pacs.004.001.09` returns of its returned payments.
//! - [`Format::Camt053`]: ISO 20022 `camt.053.001.08` end-of-day statements per account.
//!
//! Formats that carry only some rails skip the others and say how many in [`Written`].

mod camt053;
mod csv;
mod iso20022;
mod nacha;
mod nacha_returns;
mod pacs002;
mod pacs004;
mod pacs008;
mod text;

pub use camt053::opening_balance;
pub use payments_core::compact_json::{CompactJsonError, write_compact_json};

use payments_core::pb;
use std::io::Write;

pub use nacha::NachaOptions;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One protobuf-JSON payment per line.
    Jsonl,
    /// The seed's JSON document.
    SeedJson,
    /// The seed's flat columns as CSV.
    Csv,
    /// NACHA ACH file (ACH payments only).
    Nacha,
    /// ISO 20022 pacs.008 XML (wires and SEPA credit transfers only).
    Pacs008,
    /// NACHA returns file (returned ACH payments, linked to the NACHA file's entries).
    NachaReturns,
    /// ISO 20022 pacs.002 status reports (of the pacs.008 file's payments).
    Pacs002,
    /// ISO 20022 pacs.004 returns (of the pacs.008 file's returned payments).
    Pacs004,
    /// ISO 20022 camt.053 end-of-day account statements (every rail).
    Camt053,
}

impl Format {
    /// Every format with its command-line name.
    pub const ALL: [(&'static str, Format); 9] = [
        ("jsonl", Format::Jsonl),
        ("seed-json", Format::SeedJson),
        ("csv", Format::Csv),
        ("nacha", Format::Nacha),
        ("pacs008", Format::Pacs008),
        ("nacha-returns", Format::NachaReturns),
        ("pacs002", Format::Pacs002),
        ("pacs004", Format::Pacs004),
        ("camt053", Format::Camt053),
    ];

    /// Parses a command-line name; the error lists the valid ones.
    pub fn parse(name: &str) -> Result<Self, FormatError> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| *f)
            .ok_or_else(|| FormatError::Unknown {
                name: name.to_owned(),
                known: Self::ALL
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Whether each payment is written on its own, one after another (JSONL, seed JSON,
    /// CSV): such records can be encoded anywhere ([`encode_record`]) and written in order
    /// ([`PaymentWriter::push_encoded`]). NACHA and pacs.008 summarise the whole file.
    pub fn is_streaming(self) -> bool {
        matches!(self, Self::Jsonl | Self::SeedJson | Self::Csv)
    }

    /// Whether the format holds the messages of payment lifecycles (returns, status
    /// reports, statements), which only a run of lifecycles has to say.
    pub fn describes_lifecycles(self) -> bool {
        matches!(
            self,
            Self::NachaReturns | Self::Pacs002 | Self::Pacs004 | Self::Camt053
        )
    }

    /// Whether the format carries payments of this rail.
    pub fn carries(self, rail: pb::PaymentType) -> bool {
        match self {
            Self::Nacha | Self::NachaReturns => rail == pb::PaymentType::Ach,
            Self::Pacs008 | Self::Pacs002 | Self::Pacs004 => {
                matches!(rail, pb::PaymentType::Wire | pb::PaymentType::Sepa)
            }
            _ => true,
        }
    }
}

/// What went wrong writing a format.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A format name nobody knows.
    #[error("unknown format {name:?}; known formats: {known}")]
    Unknown {
        /// The name given.
        name: String,
        /// The valid names.
        known: String,
    },
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A payment could not be expressed in the format.
    #[error("payment {payment_id}: {reason}")]
    Unrepresentable {
        /// The payment.
        payment_id: String,
        /// Why.
        reason: String,
    },
}

/// How many payments were written and how many the format skipped (other rails).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Payments in the output.
    pub written: u64,
    /// Payments of rails the format does not carry.
    pub skipped: u64,
    /// For the bank messages of a lifecycle, what the file holds for those payments: how
    /// many and of what (e.g. `(9, "return entries")`).
    pub messages: Option<(u64, &'static str)>,
}

/// Writes payments one at a time: line formats (JSONL, CSV, seed JSON) go straight out,
/// every revision included; NACHA and pacs.008, whose headers and controls summarise every
/// payment, are buffered until [`PaymentWriter::finish`] and hold each payment once, at its
/// latest revision.
pub struct PaymentWriter<'a> {
    format: Format,
    out: &'a mut dyn Write,
    buffered: Vec<pb::Payment>,
    /// Position in `buffered` of each payment id: a file of payments holds each payment once,
    /// at its latest revision.
    positions: std::collections::HashMap<String, usize>,
    written: Written,
    /// A record being encoded, kept to reuse its allocation.
    scratch: Vec<u8>,
}

impl<'a> PaymentWriter<'a> {
    /// Starts a document in `format` on `out` (writes its opening, if any).
    pub fn new(format: Format, out: &'a mut dyn Write) -> Result<Self, FormatError> {
        match format {
            Format::SeedJson => out.write_all(b"{\"transactions\": [\n")?,
            Format::Csv => csv::write_header(out)?,
            _ => {}
        }
        Ok(Self {
            format,
            out,
            buffered: Vec::new(),
            positions: std::collections::HashMap::new(),
            written: Written::default(),
            scratch: Vec::new(),
        })
    }

    /// Adds one payment (skipped, and counted so, when the format does not carry its rail).
    pub fn push(&mut self, payment: pb::Payment) -> Result<(), FormatError> {
        if !self.format.carries(payment.payment_type()) {
            self.written.skipped += 1;
            return Ok(());
        }
        match self.format {
            Format::Jsonl | Format::SeedJson | Format::Csv => {
                let mut record = std::mem::take(&mut self.scratch);
                record.clear();
                encode_record(self.format, &payment, &mut record)?;
                let pushed = self.push_encoded(&record);
                self.scratch = record;
                return pushed;
            }
            _ => match self.positions.get(&payment.payment_id) {
                Some(&at) => {
                    if payment.revision > self.buffered[at].revision {
                        self.buffered[at] = payment;
                    }
                    return Ok(());
                }
                None => {
                    self.positions
                        .insert(payment.payment_id.clone(), self.buffered.len());
                    self.buffered.push(payment);
                }
            },
        }
        self.written.written += 1;
        Ok(())
    }

    /// Adds one payment that [`encode_record`] encoded in this writer's (streaming) format,
    /// exactly as [`PaymentWriter::push`] would have written it.
    pub fn push_encoded(&mut self, record: &[u8]) -> Result<(), FormatError> {
        if self.format == Format::SeedJson && self.written.written > 0 {
            self.out.write_all(b",\n")?;
        }
        self.out.write_all(record)?;
        self.written.written += 1;
        Ok(())
    }

    /// Adds the payments whose records [`encode_record`] appended back to back to `records`,
    /// `ends` marking where each ends: what [`PaymentWriter::push_encoded`] of each in turn
    /// writes. In JSON lines and CSV the run is one write, not copied record by record.
    pub fn push_encoded_run(&mut self, records: &[u8], ends: &[usize]) -> Result<(), FormatError> {
        if self.format == Format::SeedJson {
            let mut start = 0;
            for &end in ends {
                self.push_encoded(&records[start..end])?;
                start = end;
            }
            return Ok(());
        }
        let end = ends.last().copied().unwrap_or(0);
        self.out.write_all(&records[..end])?;
        self.written.written += ends.len() as u64;
        Ok(())
    }

    /// Ends the document (closing, controls) and says how many payments it holds.
    pub fn finish(mut self) -> Result<Written, FormatError> {
        let refs: Vec<&pb::Payment> = self.buffered.iter().collect();
        let mut messages = |count: usize, what| self.written.messages = Some((count as u64, what));
        match self.format {
            Format::SeedJson => self.out.write_all(b"\n]}\n")?,
            Format::Nacha => nacha::write(&refs, &NachaOptions::default(), self.out)?,
            Format::Pacs008 => pacs008::write(&refs, self.out)?,
            Format::NachaReturns => messages(
                nacha_returns::write(&refs, &NachaOptions::default(), self.out)?,
                "return entries",
            ),
            Format::Pacs002 => {
                pacs002::write(&refs, self.out)?;
                messages(refs.len(), "status reports");
            }
            Format::Pacs004 => messages(pacs004::write(&refs, self.out)?, "returns"),
            Format::Camt053 => messages(camt053::write(&refs, self.out)?, "statements"),
            Format::Jsonl | Format::Csv => {}
        }
        self.out.flush()?;
        Ok(self.written)
    }
}

/// Appends one payment's record in a streaming format ([`Format::is_streaming`]) to `out`:
/// a JSON line, a seed JSON object (the separator between objects is the writer's), or a CSV
/// row. Pure, so records can be encoded on any thread and written in order.
pub fn encode_record(
    format: Format,
    payment: &pb::Payment,
    out: &mut Vec<u8>,
) -> Result<(), FormatError> {
    match format {
        Format::Jsonl => {
            write_compact_json(payment, out).map_err(|e| FormatError::Unrepresentable {
                payment_id: payment.payment_id.clone(),
                reason: e.to_string(),
            })?;
            out.push(b'\n');
        }
        Format::SeedJson => payments_core::seed_json::write_seed_json(payment, out),
        Format::Csv => csv::write_row(payment, out)?,
        _ => {
            return Err(FormatError::Unrepresentable {
                payment_id: payment.payment_id.clone(),
                reason: format!(
                    "{format:?} summarises the whole file; it has no record of its own"
                ),
            });
        }
    }
    Ok(())
}

/// Writes `payments` to `out` in `format`.
pub fn write(
    format: Format,
    payments: &[pb::Payment],
    out: &mut dyn Write,
) -> Result<Written, FormatError> {
    let mut writer = PaymentWriter::new(format, out)?;
    for p in payments {
        writer.push(p.clone())?;
    }
    writer.finish()
}
