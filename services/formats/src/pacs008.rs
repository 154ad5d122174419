//! ISO 20022 `pacs.008.001.08` (FI to FI customer credit transfer) XML for wires and SEPA
//! credit transfers: one group header (message id, creation time, number of transactions,
//! settlement method, and the total when every amount shares a currency), then one
//! `CdtTrfTxInf` per payment with its ids, amount, charge bearer, parties, accounts and
//! agents (BIC, or the US ABA clearing member id).

use crate::text::xml_escape;
use payments_core::money::format_minor_units;
use payments_core::pb::{self, payment::Details};
use payments_core::time::{format_rfc3339, from_timestamp};
use std::fmt::Write as _;
use std::io::Write;

/// The message's XML namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";

pub(crate) fn tag(xml: &mut String, name: &str, value: &str) {
    let _ = write!(xml, "<{name}>{}</{name}>", xml_escape(value));
}

pub(crate) fn amount_tag(xml: &mut String, name: &str, money: &pb::Money) {
    let _ = write!(
        xml,
        "<{name} Ccy=\"{}\">{}</{name}>",
        xml_escape(&money.currency),
        format_minor_units(money.minor_units, &money.currency)
    );
}

pub(crate) fn settlement_date(p: &pb::Payment) -> String {
    p.processing
        .as_ref()
        .and_then(|x| x.settlement_date.as_ref().or(x.effective_date.as_ref()))
        .or(p.created_at.as_ref())
        .and_then(from_timestamp)
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn agent(xml: &mut String, name: &str, account: Option<&pb::Account>) {
    let _ = write!(xml, "<{name}><FinInstnId>");
    let bic = account.map(|a| a.bic.as_str()).filter(|b| !b.is_empty());
    let routing = account.and_then(|a| a.routing_info.as_ref());
    if let Some(bic) = bic {
        tag(xml, "BICFI", bic);
    } else if let Some(r) = routing.filter(|r| r.r#type == pb::RoutingType::Swift as i32) {
        tag(xml, "BICFI", &r.value);
    }
    if let Some(r) = routing.filter(|r| r.r#type == pb::RoutingType::Aba as i32) {
        xml.push_str("<ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId>");
        tag(xml, "MmbId", &r.value);
        xml.push_str("</ClrSysMmbId>");
    }
    let _ = write!(xml, "</FinInstnId></{name}>");
}

fn party(xml: &mut String, name: &str, party: Option<&pb::Party>) {
    let _ = write!(xml, "<{name}>");
    if let Some(p) = party {
        tag(xml, "Nm", &p.name);
        if let Some(country) = p
            .address
            .as_ref()
            .map(|a| a.country.as_str())
            .filter(|c| !c.is_empty())
        {
            xml.push_str("<PstlAdr>");
            tag(xml, "Ctry", country);
            xml.push_str("</PstlAdr>");
        }
    }
    let _ = write!(xml, "</{name}>");
}

pub(crate) fn account(xml: &mut String, name: &str, account: Option<&pb::Account>) {
    let Some(a) = account else { return };
    let _ = write!(xml, "<{name}><Id>");
    let iban = Some(a.iban.as_str()).filter(|i| !i.is_empty()).or_else(|| {
        a.routing_info
            .as_ref()
            .filter(|r| r.r#type == pb::RoutingType::Iban as i32)
            .map(|r| r.value.as_str())
    });
    match iban {
        Some(iban) => tag(xml, "IBAN", iban),
        None => {
            xml.push_str("<Othr>");
            tag(xml, "Id", &a.account_id);
            xml.push_str("</Othr>");
        }
    }
    let _ = write!(xml, "</Id></{name}>");
}

fn charge_bearer(p: &pb::Payment) -> &'static str {
    match &p.details {
        Some(Details::Wire(w)) => match w.charge_bearer() {
            pb::ChargeBearer::Our => "DEBT",
            pb::ChargeBearer::Ben => "CRED",
            _ => "SHAR",
        },
        // SEPA: charges shared under the scheme's service level.
        _ => "SLEV",
    }
}

fn transaction(xml: &mut String, p: &pb::Payment) {
    xml.push_str("<CdtTrfTxInf><PmtId>");
    tag(xml, "InstrId", &instruction_id(p));
    tag(xml, "EndToEndId", &end_to_end_id(p));
    tag(xml, "TxId", &p.payment_id);
    xml.push_str("</PmtId>");
    if let Some(Details::Sepa(s)) = &p.details {
        xml.push_str("<PmtTpInf><SvcLvl>");
        tag(
            xml,
            "Cd",
            if s.service_level.is_empty() {
                "SEPA"
            } else {
                &s.service_level
            },
        );
        xml.push_str("</SvcLvl>");
        if !s.local_instrument.is_empty() {
            xml.push_str("<LclInstrm>");
            tag(xml, "Cd", &s.local_instrument);
            xml.push_str("</LclInstrm>");
        }
        if !s.category_purpose.is_empty() {
            xml.push_str("<CtgyPurp>");
            tag(xml, "Cd", &s.category_purpose);
            xml.push_str("</CtgyPurp>");
        }
        xml.push_str("</PmtTpInf>");
    }
    if let Some(amount) = &p.amount {
        amount_tag(xml, "IntrBkSttlmAmt", amount);
    }
    tag(xml, "IntrBkSttlmDt", &settlement_date(p));
    // A cross-currency payment: the amount instructed and the rate applied.
    if let Some(fx) = &p.exchange_info {
        if let Some(source) = &fx.source_amount {
            amount_tag(xml, "InstdAmt", source);
        }
        if !fx.rate.is_empty() {
            tag(xml, "XchgRate", &fx.rate);
        }
    }
    tag(xml, "ChrgBr", charge_bearer(p));
    if let Some(Details::Wire(w)) = &p.details
        && !w.intermediary_bank_bic.is_empty()
    {
        xml.push_str("<IntrmyAgt1><FinInstnId>");
        tag(xml, "BICFI", &w.intermediary_bank_bic);
        xml.push_str("</FinInstnId></IntrmyAgt1>");
    }
    let debtor_account = p.originator.as_ref().and_then(|o| o.account.as_ref());
    let creditor_account = p.beneficiary.as_ref().and_then(|b| b.account.as_ref());
    party(xml, "Dbtr", p.originator.as_ref());
    account(xml, "DbtrAcct", debtor_account);
    agent(xml, "DbtrAgt", debtor_account);
    agent(xml, "CdtrAgt", creditor_account);
    party(xml, "Cdtr", p.beneficiary.as_ref());
    account(xml, "CdtrAcct", creditor_account);
    if let Some(r) = p
        .remittance_info
        .as_ref()
        .filter(|r| !r.description.is_empty())
    {
        xml.push_str("<RmtInf>");
        tag(xml, "Ustrd", &r.description);
        xml.push_str("</RmtInf>");
    }
    xml.push_str("</CdtTrfTxInf>\n");
}

/// Writes one pacs.008 message holding `payments` (wires and SEPA credit transfers); the
/// schema requires at least one transaction.
/// The group header's message id for `payments`: what pacs.002 and pacs.004 name as the
/// original message.
pub(crate) fn message_id(payments: &[&pb::Payment]) -> String {
    payments
        .first()
        .map(|p| format!("MSG-{}", p.payment_id))
        .unwrap_or_else(|| "MSG-EMPTY".to_owned())
}

/// The instruction id a payment's `CdtTrfTxInf` carries.
pub(crate) fn instruction_id(p: &pb::Payment) -> String {
    match &p.details {
        Some(Details::Sepa(s)) if !s.instruction_id.is_empty() => s.instruction_id.clone(),
        _ => p.payment_id.clone(),
    }
}

/// The end-to-end id a payment's `CdtTrfTxInf` carries.
pub(crate) fn end_to_end_id(p: &pb::Payment) -> String {
    p.references
        .as_ref()
        .map(|r| r.end_to_end_id.clone())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "NOTPROVIDED".to_owned())
}

pub fn write(payments: &[&pb::Payment], out: &mut dyn Write) -> Result<(), crate::FormatError> {
    if payments.is_empty() {
        return Err(crate::FormatError::Unrepresentable {
            payment_id: String::new(),
            reason: "pacs.008 needs at least one wire or SEPA credit transfer, and there is none"
                .to_owned(),
        });
    }
    let mut xml = String::with_capacity(1024 + payments.len() * 1200);
    let _ = writeln!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{NAMESPACE}\">"
    );
    xml.push_str("<FIToFICstmrCdtTrf>\n<GrpHdr>");
    let first = payments.first();
    let message_id = message_id(payments);
    tag(&mut xml, "MsgId", &message_id);
    let created = first
        .and_then(|p| p.created_at.as_ref())
        .map(format_rfc3339)
        .unwrap_or_default();
    tag(&mut xml, "CreDtTm", &created);
    tag(&mut xml, "NbOfTxs", &payments.len().to_string());
    let currencies: std::collections::BTreeSet<&str> = payments
        .iter()
        .filter_map(|p| p.amount.as_ref())
        .map(|a| a.currency.as_str())
        .collect();
    if let (1, Some(currency)) = (currencies.len(), currencies.first()) {
        let total: i128 = payments
            .iter()
            .filter_map(|p| p.amount.as_ref())
            .map(|a| i128::from(a.minor_units))
            .sum();
        // The schema allows 18 digits; a larger total is left out (it is optional).
        if (0..10i128.pow(18)).contains(&total) {
            let total = pb::Money {
                minor_units: total as i64,
                currency: (*currency).to_owned(),
            };
            amount_tag(&mut xml, "TtlIntrBkSttlmAmt", &total);
        }
    }
    xml.push_str("<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>\n");
    for p in payments {
        transaction(&mut xml, p);
    }
    xml.push_str("</FIToFICstmrCdtTrf>\n</Document>\n");
    out.write_all(xml.as_bytes())?;
    Ok(())
}
