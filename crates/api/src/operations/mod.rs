//! The use cases. Every surface (the JSON endpoints, the console, a host application) calls
//! these: each one reads what the decision needs, asks the domain's rules, writes, invalidates
//! caches and records the audit event. Nothing else sequences store calls or asks the rules,
//! so no surface can allow what another refuses.
//!
//! Inputs are validated domain values; outputs are domain records. Errors are `domain::Error`.

pub mod accounts;
pub mod admin;
pub mod api_keys;
mod audit;
pub mod audit_events;
pub mod grants;
pub mod identity;
pub mod invitations;
pub mod members;
pub mod organizations;
pub mod password_resets;
pub mod service_accounts;
