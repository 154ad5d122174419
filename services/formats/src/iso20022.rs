//! What the ISO 20022 messages we write share: the document's opening, and the creation time
//! of a message that reports on payments.

use payments_core::pb;
use payments_core::time::format_rfc3339;
use std::fmt::Write as _;

/// An XML buffer holding the declaration, `<Document>` in `namespace`, and the opening of
/// the message element `root` and its group header.
pub(crate) fn open_document(namespace: &str, root: &str, capacity: usize) -> String {
    let mut xml = String::with_capacity(1024 + capacity);
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{namespace}\">\n<{root}>\n<GrpHdr>"
    );
    xml
}

/// The latest update among `payments`, as an ISO date-time (the epoch when there is none):
/// a report is created once what it reports has happened.
pub(crate) fn latest_update<'a>(payments: impl IntoIterator<Item = &'a pb::Payment>) -> String {
    payments
        .into_iter()
        .filter_map(|p| p.updated_at.as_ref())
        .max_by_key(|t| (t.seconds, t.nanos))
        .map(format_rfc3339)
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}
