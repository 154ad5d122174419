//! `paymentsctl submit`: stream payments from files through IngestService.

use crate::cli::SubmitArgs;
use crate::client;
use crate::commands::query::describe_status;
use crate::input::read_payments;
use payments_core::pb;
use payments_ingest::MessageGroups;
use payments_runtime::TraceParent;
use prost::Message;
use tracing::Instrument;

/// Submits every readable payment in one stream; prints each rejection with its origin and
/// bad fields. Fails (exit 1) when any record was unreadable or rejected.
pub async fn run(args: SubmitArgs) -> anyhow::Result<()> {
    let mut origins = Vec::new();
    let mut payments = Vec::new();
    let mut unreadable = 0u64;
    for file in &args.files {
        for record in read_payments(file)? {
            match record.payment {
                Ok(payment) => {
                    origins.push(record.origin);
                    payments.push(payment);
                }
                Err(reason) => {
                    unreadable += 1;
                    println!("unreadable {}: {reason}", record.origin);
                }
            }
        }
    }
    let mode = if args.lenient {
        pb::ValidationMode::Lenient
    } else {
        pb::ValidationMode::Strict
    } as i32;
    let total = payments.len() as u64;
    let channel = client::connect(&args.server).await?;
    // A few hundred payments a message; the server still counts, and names, each alone.
    let requests = tokio_stream::iter(MessageGroups::new(payments, pb::Payment::encoded_len).map(
        move |payments| pb::SubmitPaymentsRequest {
            payment: None,
            validation_mode: mode,
            payments,
        },
    ));
    let span = tracing::info_span!("submit payments", otel.kind = "client", payments = total);
    let mut request = tonic::Request::new(requests);
    span.in_scope(|| TraceParent::inject_current(request.metadata_mut()));
    let summary = client::ingest(channel)
        .submit_payments(request)
        .instrument(span)
        .await
        .map_err(|status| anyhow::anyhow!("submission failed: {}", describe_status(&status)))?
        .into_inner();
    for rejection in &summary.rejections {
        let origin = origins
            .get(rejection.index as usize)
            .map(String::as_str)
            .unwrap_or("?");
        let fields: Vec<String> = rejection
            .violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect();
        println!(
            "rejected {origin} {}: {}",
            rejection.payment_id,
            fields.join("; ")
        );
    }
    let undetailed = summary
        .rejected
        .saturating_sub(summary.rejections.len() as u64);
    if undetailed > 0 {
        println!(
            "… and {undetailed} more rejected records (the server details the first {})",
            summary.rejections.len()
        );
    }
    println!(
        "submitted {total} payments: {} accepted ({} with warnings), {} rejected{}",
        summary.accepted,
        summary.accepted_with_warnings,
        summary.rejected,
        if unreadable > 0 {
            format!(", {unreadable} unreadable")
        } else {
            String::new()
        }
    );
    if summary.rejected > 0 || unreadable > 0 {
        let hint = if args.lenient {
            ""
        } else {
            " (--lenient accepts content-rule failures as warnings)"
        };
        anyhow::bail!(
            "{} of {} records not accepted{hint}",
            summary.rejected + unreadable,
            total + unreadable
        );
    }
    Ok(())
}
