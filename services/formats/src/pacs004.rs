//! ISO 20022 `pacs.004.001.09` (payment return) for the payments of a pacs.008 file that
//! were returned after settlement: per return, the original message id and the original
//! instruction, end-to-end and transaction ids, the amount returned and the ISO reason code.

use crate::iso20022::{latest_update, open_document};
use crate::pacs002::{iso_reason, last_reason};
use crate::pacs008::{amount_tag, end_to_end_id, instruction_id, message_id, tag};
use payments_core::pb;
use payments_core::time::from_timestamp;
use std::io::Write;

/// The XML namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09";

/// Writes a return for each returned payment among `payments` (those of the pacs.008 file,
/// at their latest revision, in its order); says how many.
pub fn write(payments: &[&pb::Payment], out: &mut dyn Write) -> Result<usize, crate::FormatError> {
    let returned: Vec<&pb::Payment> = payments
        .iter()
        .copied()
        .filter(|p| p.status() == pb::PaymentStatus::Returned)
        .collect();
    let mut xml = open_document(NAMESPACE, "PmtRtr", returned.len() * 600);
    let original = message_id(payments);
    tag(&mut xml, "MsgId", &format!("RTR-{}", &original[4..]));
    let created = latest_update(returned.iter().copied());
    tag(&mut xml, "CreDtTm", &created);
    tag(&mut xml, "NbOfTxs", &returned.len().to_string());
    xml.push_str("<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>\n");
    for (n, p) in returned.iter().enumerate() {
        xml.push_str("<TxInf>");
        tag(&mut xml, "RtrId", &format!("RTR{:09}", n + 1));
        xml.push_str("<OrgnlGrpInf>");
        tag(&mut xml, "OrgnlMsgId", &original);
        tag(&mut xml, "OrgnlMsgNmId", "pacs.008.001.08");
        xml.push_str("</OrgnlGrpInf>");
        tag(&mut xml, "OrgnlInstrId", &instruction_id(p));
        tag(&mut xml, "OrgnlEndToEndId", &end_to_end_id(p));
        tag(&mut xml, "OrgnlTxId", &p.payment_id);
        if let Some(amount) = &p.amount {
            amount_tag(&mut xml, "RtrdIntrBkSttlmAmt", amount);
        }
        let returned_on = p
            .updated_at
            .as_ref()
            .and_then(from_timestamp)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        tag(&mut xml, "IntrBkSttlmDt", &returned_on);
        xml.push_str("<RtrRsnInf><Rsn>");
        tag(&mut xml, "Cd", iso_reason(last_reason(p)));
        xml.push_str("</Rsn></RtrRsnInf></TxInf>\n");
    }
    xml.push_str("</PmtRtr>\n</Document>\n");
    out.write_all(xml.as_bytes())?;
    Ok(returned.len())
}
