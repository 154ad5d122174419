//! The payments browser's query string (`?type=ach,wire&customer=…&from=…`): the shared
//! [`FilterText`] every surface parses filters with.

pub use payments_store::{FilterError as BadParameter, FilterText as PaymentQuery};
