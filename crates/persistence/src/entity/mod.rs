//! One sea-orm entity per table, as the migration creates them.

pub mod api_key;
pub mod audit_event;
pub mod grant;
pub mod invitation;
pub mod membership;
pub mod organization;
pub mod organization_deletion;
pub mod password_reset;
pub mod service_account;
pub mod session;
pub mod signing_key;
pub mod user;
