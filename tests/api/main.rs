//! The HTTP suite: one binary (linking is slow), one module per area of the contract.

mod admin;
mod database_down;
mod email;
mod health;
mod invitations;
mod members;
mod organizations;
mod origin;
mod overload;
mod password_reset;
mod sessions;
mod signup;
// key, authorize, audit and token suites:
mod api_keys;
mod audit;
mod authorize;
mod cache_races;
mod client_address;
mod credentials;
mod key_management;
mod me;
mod rate_limit;
mod replicas;
mod resources;
mod service_accounts;
mod sweep;
mod tokens;
mod upgrade;
