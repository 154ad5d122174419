//! [`IngestorSink`]: traffic runs published straight to the bus, validated as ingest
//! validates them (what `paymentsctl up` and `payments-generator --bus` use).

use crate::PaymentSink;
use async_trait::async_trait;
use payments_core::{ValidationMode, pb};
use payments_ingest::{IngestError, Ingestor, TraceHeader, counters};

/// Hands generated batches to an [`Ingestor`] in this process: each payment is validated
/// strictly, encoded with ingest's headers and published; a batch counts once the bus
/// holds it.
pub struct IngestorSink(pub Ingestor);

#[async_trait]
impl PaymentSink for IngestorSink {
    async fn submit(&self, payments: &[pb::Payment]) -> Result<u64, String> {
        let mut records = Vec::with_capacity(payments.len());
        // One trace per batch a traffic run hands over.
        let trace = TraceHeader::new_root();
        for payment in payments {
            match self
                .0
                .prepare(payment.clone(), ValidationMode::Strict, &trace)
            {
                Ok((_, record)) => records.push(record),
                Err(IngestError::Invalid {
                    payment_id,
                    violations,
                }) => {
                    counters::count_violations(&violations);
                    tracing::warn!(
                        payment_id,
                        violations = violations.len(),
                        "generated payment rejected"
                    );
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        // Counted as ingest counts them, so the pipeline's numbers hold in one process too.
        let n = records.len() as u64;
        counters::accepted().increment(n);
        self.0.publish(records).await.map_err(|e| e.to_string())?;
        counters::count_produced(n);
        Ok(n)
    }
}
