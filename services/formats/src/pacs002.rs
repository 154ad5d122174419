//! ISO 20022 `pacs.002.001.10` (FI to FI payment status report) for the payments of a
//! pacs.008 file: the original message's id, and per payment its original instruction,
//! end-to-end and transaction ids with its status: ACSC (settled), RJCT with an ISO reason
//! code (rejected or failed), or PDNG (still in flight at the end of the run).

use crate::iso20022::{latest_update, open_document};
use crate::pacs008::{end_to_end_id, instruction_id, message_id, tag};
use payments_core::pb::{self, PaymentStatus as S};
use std::io::Write;

/// The XML namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10";

/// The ISO external status reason code for a failure or rejection reason of ours.
pub(crate) fn iso_reason(reason: &str) -> &str {
    match reason {
        "BENEFICIARY_ACCOUNT_CLOSED" => "AC04",
        "INVALID_BIC" => "RC01",
        "SANCTIONS_HOLD" => "RR04",
        r if r.len() == 4 && r.bytes().all(|b| b.is_ascii_alphanumeric()) => r,
        _ => "MS03",
    }
}

/// The reason of `p`'s latest status change.
pub(crate) fn last_reason(p: &pb::Payment) -> &str {
    p.processing
        .as_ref()
        .and_then(|x| x.status_history.last())
        .map_or("", |c| c.reason.as_str())
}

/// Writes the status report of `payments` (those of the pacs.008 file, at their latest
/// revision, in its order).
pub fn write(payments: &[&pb::Payment], out: &mut dyn Write) -> Result<(), crate::FormatError> {
    let mut xml = open_document(NAMESPACE, "FIToFIPmtStsRpt", payments.len() * 400);
    let original = message_id(payments);
    tag(&mut xml, "MsgId", &format!("STS-{}", &original[4..]));
    let created = latest_update(payments.iter().copied());
    tag(&mut xml, "CreDtTm", &created);
    xml.push_str("</GrpHdr>\n<OrgnlGrpInfAndSts>");
    tag(&mut xml, "OrgnlMsgId", &original);
    tag(&mut xml, "OrgnlMsgNmId", "pacs.008.001.08");
    tag(&mut xml, "OrgnlNbOfTxs", &payments.len().to_string());
    xml.push_str("</OrgnlGrpInfAndSts>\n");
    for (n, p) in payments.iter().enumerate() {
        let (status, reason) = match p.status() {
            S::Completed | S::Returned => ("ACSC", None),
            S::Rejected | S::Failed => ("RJCT", Some(iso_reason(last_reason(p)))),
            _ => ("PDNG", None),
        };
        xml.push_str("<TxInfAndSts>");
        tag(&mut xml, "StsId", &format!("STS{:09}", n + 1));
        tag(&mut xml, "OrgnlInstrId", &instruction_id(p));
        tag(&mut xml, "OrgnlEndToEndId", &end_to_end_id(p));
        tag(&mut xml, "OrgnlTxId", &p.payment_id);
        tag(&mut xml, "TxSts", status);
        if let Some(code) = reason {
            xml.push_str("<StsRsnInf><Rsn>");
            tag(&mut xml, "Cd", code);
            xml.push_str("</Rsn></StsRsnInf>");
        }
        xml.push_str("</TxInfAndSts>\n");
    }
    xml.push_str("</FIToFIPmtStsRpt>\n</Document>\n");
    out.write_all(xml.as_bytes())?;
    Ok(())
}
