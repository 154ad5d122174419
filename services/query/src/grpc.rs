//! `payments.v1.QueryService` over gRPC.

use crate::filter::{filter_from_proto, page_from_proto};
use payments_core::pb::{self, query_service_server::QueryService};
use payments_runtime::status::{invalid_field, unavailable};
use payments_store::{Stats, Store};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves QueryService from a store.
#[derive(Clone)]
pub struct QueryGrpc {
    store: Arc<dyn Store>,
}

impl QueryGrpc {
    /// A service reading `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The tonic server for this service.
    pub fn into_server(self) -> pb::query_service_server::QueryServiceServer<Self> {
        pb::query_service_server::QueryServiceServer::new(self)
    }
}

fn store_error(e: payments_store::Error) -> Status {
    match e {
        payments_store::Error::Corrupt { .. } => Status::internal(e.to_string()),
        other => unavailable("store", other),
    }
}

/// Store aggregates as the API's message.
pub fn stats_to_proto(stats: Stats) -> pb::GetStatsResponse {
    let buckets = |list: Vec<payments_store::StatsBucket>| {
        list.into_iter()
            .map(|b| pb::StatsBucket {
                key: b.key,
                count: b.count,
                totals: b
                    .totals
                    .into_iter()
                    .map(|(currency, minor_units)| pb::Money {
                        minor_units,
                        currency,
                    })
                    .collect(),
            })
            .collect()
    };
    pb::GetStatsResponse {
        total_count: stats.total_count,
        by_type: buckets(stats.by_type),
        by_currency: buckets(stats.by_currency),
        by_status: buckets(stats.by_status),
    }
}

#[tonic::async_trait]
impl QueryService for QueryGrpc {
    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::GetPaymentResponse>, Status> {
        let id = request.into_inner().payment_id;
        if id.is_empty() {
            return Err(invalid_field("payment_id", "is required"));
        }
        match self.store.get(&id).await.map_err(store_error)? {
            Some(payment) => Ok(Response::new(pb::GetPaymentResponse {
                payment: Some(payment),
            })),
            None => Err(Status::not_found(format!("payment {id:?} is not stored"))),
        }
    }

    async fn list_payments(
        &self,
        request: Request<pb::ListPaymentsRequest>,
    ) -> Result<Response<pb::ListPaymentsResponse>, Status> {
        let request = request.into_inner();
        let filter = filter_from_proto(request.filter.as_ref())?;
        let page = page_from_proto(request.page_size, &request.page_token)?;
        let got = self.store.list(&filter, &page).await.map_err(store_error)?;
        Ok(Response::new(pb::ListPaymentsResponse {
            payments: got.payments,
            next_page_token: got.next.map(|c| c.to_token()).unwrap_or_default(),
        }))
    }

    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::GetStatsResponse>, Status> {
        let filter = filter_from_proto(request.into_inner().filter.as_ref())?;
        let stats = self.store.stats(&filter).await.map_err(store_error)?;
        Ok(Response::new(stats_to_proto(stats)))
    }
}
