//! `paymentsctl get`, `list` and `stats`.

use crate::cli::{GetArgs, GetFormat, ListArgs, ListFormat, StatsArgs};
use crate::client;
use payments_core::money::format_minor_units;
use payments_core::names::{seed_type_name, status_name};
use payments_core::pb;
use payments_core::seed_json::to_seed;
use payments_core::time::format_rfc3339;
use payments_formats::{Format, PaymentWriter};
use std::io::Write;
use tonic::Status;
use tonic_types::StatusExt;

/// A status as one line, with every field violation it carries.
pub fn describe_status(status: &Status) -> String {
    let mut text = format!("{:?}: {}", status.code(), status.message());
    if let Some(bad) = status.get_details_bad_request() {
        let fields: Vec<String> = bad
            .field_violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect();
        if !fields.is_empty() && !status.message().contains(&fields[0]) {
            text.push_str(&format!(" [{}]", fields.join("; ")));
        }
    }
    text
}

fn fail(status: Status) -> anyhow::Error {
    anyhow::anyhow!(describe_status(&status))
}

/// Prints one payment as pretty protobuf JSON, or in the seed's shape.
pub async fn get(args: GetArgs) -> anyhow::Result<()> {
    let channel = client::connect(&args.server).await?;
    let response = client::query(channel)
        .get_payment(pb::GetPaymentRequest {
            payment_id: args.payment_id,
        })
        .await
        .map_err(fail)?
        .into_inner();
    let text = match (args.format, &response.payment) {
        (GetFormat::Seed, Some(payment)) => serde_json::to_string_pretty(&to_seed(payment))?,
        _ => serde_json::to_string_pretty(&response.payment)?,
    };
    println!("{text}");
    Ok(())
}

/// Lists payments, a page or (`--all`) every page.
pub async fn list(args: ListArgs) -> anyhow::Result<()> {
    let filter = super::filter::to_proto(&args.filter)?;
    let mut query = client::query(client::connect(&args.server).await?);
    let mut token = args.page_token.clone();
    let mut out = std::io::stdout().lock();
    let mut shown = 0usize;
    // Standard output's lock is reentrant: the document writes through a handle of its own.
    let mut document_out = std::io::stdout();
    let mut seed_document = match args.format {
        ListFormat::SeedJson => Some(PaymentWriter::new(Format::SeedJson, &mut document_out)?),
        _ => None,
    };
    if args.format == ListFormat::Table {
        writeln!(
            out,
            "{:<26} {:<21} {:<10} {:>18} {:<3} {:<14} {:<14} CREATED",
            "PAYMENT_ID", "TYPE", "STATUS", "AMOUNT", "CCY", "ORIGINATOR", "BENEFICIARY"
        )?;
    }
    loop {
        let page = query
            .list_payments(pb::ListPaymentsRequest {
                filter: Some(filter.clone()),
                page_size: args.page_size,
                page_token: token,
            })
            .await
            .map_err(fail)?
            .into_inner();
        for p in &page.payments {
            if let Some(document) = seed_document.as_mut() {
                document.push(p.clone())?;
                continue;
            }
            match args.format {
                ListFormat::Jsonl | ListFormat::SeedJson => {
                    writeln!(out, "{}", serde_json::to_string(p)?)?
                }
                ListFormat::Table => {
                    let (amount, currency) = p
                        .amount
                        .as_ref()
                        .map(|a| {
                            (
                                format_minor_units(a.minor_units, &a.currency),
                                a.currency.as_str(),
                            )
                        })
                        .unwrap_or_default();
                    let party = |x: &Option<pb::Party>| {
                        x.as_ref().map(|p| p.party_id.clone()).unwrap_or_default()
                    };
                    writeln!(
                        out,
                        "{:<26} {:<21} {:<10} {:>18} {:<3} {:<14} {:<14} {}",
                        p.payment_id,
                        seed_type_name(p.payment_type()),
                        status_name(p.status()),
                        amount,
                        currency,
                        party(&p.originator),
                        party(&p.beneficiary),
                        p.created_at
                            .as_ref()
                            .map(format_rfc3339)
                            .unwrap_or_default()
                    )?;
                }
            }
        }
        shown += page.payments.len();
        token = page.next_page_token;
        if token.is_empty() || !args.all {
            break;
        }
    }
    if let Some(document) = seed_document {
        document.finish()?;
    }
    if !token.is_empty() {
        eprintln!("{shown} shown; more with --page-token {token} (or --all)");
    } else if args.format == ListFormat::Table {
        eprintln!("{shown} payments");
    }
    Ok(())
}

/// Prints counts and totals.
pub async fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let filter = super::filter::to_proto(&args.filter)?;
    let channel = client::connect(&args.server).await?;
    let stats = client::query(channel)
        .get_stats(pb::GetStatsRequest {
            filter: Some(filter),
        })
        .await
        .map_err(fail)?
        .into_inner();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    println!("{} payments", stats.total_count);
    for (title, buckets) in [
        ("by type", &stats.by_type),
        ("by currency", &stats.by_currency),
        ("by status", &stats.by_status),
    ] {
        println!("\n{title}:");
        for b in buckets {
            let totals: Vec<String> = b
                .totals
                .iter()
                .map(|m| {
                    format!(
                        "{} {}",
                        format_minor_units(m.minor_units, &m.currency),
                        m.currency
                    )
                })
                .collect();
            println!("  {:<28} {:>9}  {}", b.key, b.count, totals.join(", "));
        }
    }
    Ok(())
}
