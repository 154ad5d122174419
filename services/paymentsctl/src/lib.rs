//! `paymentsctl`: the command-line interface of the payments system. `up` runs all four
//! services in one process ([`stack`]); the other commands are clients of a running one.

pub mod cli;
pub mod client;
pub mod commands;
pub mod direct_file;
pub mod input;
pub mod interrupt;
pub mod stack;
#[cfg(test)]
mod test_support;
pub mod write_behind;
