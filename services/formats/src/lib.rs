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
//! Formats that carry only some rails skip the others and say how many in [`Written`].

mod csv;
mod nacha;
mod pacs008;
mod text;

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
}

impl Format {
    /// Every format with its command-line name.
    pub const ALL: [(&'static str, Format); 5] = [
        ("jsonl", Format::Jsonl),
        ("seed-json", Format::SeedJson),
        ("csv", Format::Csv),
        ("nacha", Format::Nacha),
        ("pacs008", Format::Pacs008),
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

    /// Whether the format carries payments of this rail.
    pub fn carries(self, rail: pb::PaymentType) -> bool {
        match self {
            Self::Nacha => rail == pb::PaymentType::Ach,
            Self::Pacs008 => matches!(rail, pb::PaymentType::Wire | pb::PaymentType::Sepa),
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
        })
    }

    /// Adds one payment (skipped, and counted so, when the format does not carry its rail).
    pub fn push(&mut self, payment: pb::Payment) -> Result<(), FormatError> {
        if !self.format.carries(payment.payment_type()) {
            self.written.skipped += 1;
            return Ok(());
        }
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut *self.out, &payment).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")?;
            }
            Format::SeedJson => {
                if self.written.written > 0 {
                    self.out.write_all(b",\n")?;
                }
                let seed = payments_core::seed_json::to_seed(&payment);
                serde_json::to_writer(&mut *self.out, &seed).map_err(std::io::Error::from)?;
            }
            Format::Csv => csv::write_row(&payment, self.out)?,
            Format::Nacha | Format::Pacs008 => match self.positions.get(&payment.payment_id) {
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

    /// Ends the document (closing, controls) and says how many payments it holds.
    pub fn finish(self) -> Result<Written, FormatError> {
        let refs: Vec<&pb::Payment> = self.buffered.iter().collect();
        match self.format {
            Format::SeedJson => self.out.write_all(b"\n]}\n")?,
            Format::Nacha => nacha::write(&refs, &NachaOptions::default(), self.out)?,
            Format::Pacs008 => pacs008::write(&refs, self.out)?,
            Format::Jsonl | Format::Csv => {}
        }
        self.out.flush()?;
        Ok(self.written)
    }
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
