//! `payments.v1.QueryService` over gRPC.

use crate::filter::{filter_from_proto, page_from_proto};
use payments_core::ServiceError;
use payments_core::masking::mask_accounts;
use payments_core::pb::{self, query_service_server::QueryService};
use payments_runtime::auth::Caller;
use payments_runtime::deadline::{CallDeadline, within};
use payments_runtime::status::invalid_field;
use payments_store::{Stats, Store};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Who sees full account numbers and IBANs in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountView {
    /// Every caller (local development: `paymentsctl up`, `payments-query --reveal-accounts`).
    Full,
    /// Only callers whose bearer token has the `reveal-accounts` scope; the others see the
    /// last four characters.
    MaskedUnlessAllowed,
}

impl AccountView {
    /// Whether the caller of `request` sees full account numbers.
    pub fn reveals_to<T>(self, request: &Request<T>) -> bool {
        self.reveals_to_caller(request.extensions().get::<Caller>())
    }

    /// Whether `caller` (the token's scopes, when a token was checked) sees full account
    /// numbers.
    pub fn reveals_to_caller(self, caller: Option<&Caller>) -> bool {
        self == Self::Full || caller.is_some_and(|c| c.reveal_accounts)
    }
}

/// Serves QueryService from a store.
#[derive(Clone)]
pub struct QueryGrpc {
    store: Arc<dyn Store>,
    accounts: AccountView,
}

impl QueryGrpc {
    /// A service reading `store`, showing full account numbers to every caller.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            accounts: AccountView::Full,
        }
    }

    /// The same service showing account numbers as `accounts` says.
    pub fn with_account_view(mut self, accounts: AccountView) -> Self {
        self.accounts = accounts;
        self
    }

    /// The tonic server for this service.
    pub fn into_server(self) -> pb::query_service_server::QueryServiceServer<Self> {
        pb::query_service_server::QueryServiceServer::new(self)
    }
}

/// Runs a store read within the caller's deadline (`what` names it in the answer).
async fn read_within<T>(
    deadline: Option<CallDeadline>,
    what: &str,
    read: impl std::future::Future<Output = Result<T, payments_store::Error>>,
) -> Result<T, Status> {
    within(deadline, read)
        .await
        .map_err(|passed| passed.to_status(&format!("while the store was {what}")))?
        .map_err(|e| e.to_status())
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
        let reveal = self.accounts.reveals_to(&request);
        let deadline = CallDeadline::from_metadata(request.metadata());
        let id = request.into_inner().payment_id;
        if id.is_empty() {
            return Err(invalid_field("payment_id", "is required"));
        }
        match read_within(deadline, "reading the payment", self.store.get(&id)).await? {
            Some(mut payment) => {
                if !reveal {
                    mask_accounts(&mut payment);
                }
                Ok(Response::new(pb::GetPaymentResponse {
                    payment: Some(payment),
                }))
            }
            None => Err(Status::not_found(format!("payment {id:?} is not stored"))),
        }
    }

    async fn list_payments(
        &self,
        request: Request<pb::ListPaymentsRequest>,
    ) -> Result<Response<pb::ListPaymentsResponse>, Status> {
        let reveal = self.accounts.reveals_to(&request);
        let deadline = CallDeadline::from_metadata(request.metadata());
        let request = request.into_inner();
        let filter = filter_from_proto(request.filter.as_ref())?;
        let page = page_from_proto(request.page_size, &request.page_token)?;
        let mut got = read_within(
            deadline,
            "listing payments",
            self.store.list(&filter, &page),
        )
        .await?;
        if !reveal {
            got.payments.iter_mut().for_each(mask_accounts);
        }
        Ok(Response::new(pb::ListPaymentsResponse {
            payments: got.payments,
            next_page_token: got.next.map(|c| c.to_token()).unwrap_or_default(),
        }))
    }

    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::GetStatsResponse>, Status> {
        let deadline = CallDeadline::from_metadata(request.metadata());
        let filter = filter_from_proto(request.into_inner().filter.as_ref())?;
        let stats = read_within(deadline, "summing payments", self.store.stats(&filter)).await?;
        Ok(Response::new(stats_to_proto(stats)))
    }
}
