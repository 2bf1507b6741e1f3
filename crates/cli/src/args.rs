use clap::{Args, Subcommand, ValueEnum};

/// Flags every client command accepts (they win over `PORTCULLIS_URL`, `PORTCULLIS_TOKEN`,
/// `PORTCULLIS_ORG` and the config file).
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// The server's URL (default: PORTCULLIS_URL, the config file, then http://127.0.0.1:8080).
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// An API key or access token (default: PORTCULLIS_TOKEN, then the config file).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The organization, by id or slug (default: PORTCULLIS_ORG, then the config file).
    #[arg(long, global = true, value_name = "ORG")]
    pub org: Option<String>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The client commands.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Log in with email and password and store the session token.
    Login {
        /// The account's email (prompted for on a terminal).
        #[arg(long)]
        email: Option<String>,
    },
    /// End the stored session on the server and forget it.
    Logout,
    /// Read or change the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Show who the credential acts as: principal, organization, scopes, memberships.
    Whoami,
    /// Organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Members of the organization.
    #[command(subcommand)]
    Members(MembersCommand),
    /// API keys of the organization.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Service accounts of the organization: non-human members for CI and integrations.
    #[command(subcommand, name = "service-accounts")]
    ServiceAccounts(ServiceAccountsCommand),
    /// Invitations to the organization.
    #[command(subcommand)]
    Invitations(InvitationsCommand),
    /// Your sessions (needs a session: `portcullis login`).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The organization's audit events, newest first.
    Audit {
        /// How many events (server default 50, at most 200).
        #[arg(long)]
        limit: Option<std::num::NonZeroU64>,
        /// Only events older than this event id.
        #[arg(long)]
        before: Option<uuid::Uuid>,
    },
    /// Ask whether the credential holds PERMISSION: exit 0 when allowed, 5 when not.
    Authorize {
        #[arg(value_enum)]
        permission: Permission,
        /// Decide at this resource path (`projects/web`) instead of organization-wide.
        #[arg(long)]
        resource: Option<String>,
    },
    /// Print a short-lived access token alone on standard output.
    Token {
        /// Mint it for this resource path: it then acts only at or below it.
        #[arg(long)]
        resource: Option<String>,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ConfigCommand {
    /// Store an API key or access token (read from standard input when not given).
    SetToken {
        // Its own id: the global `--token` flag is another argument.
        #[arg(id = "new_token", value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Store the server's URL.
    SetUrl {
        #[arg(id = "new_url", value_name = "URL")]
        url: String,
    },
    /// Show the settings in force and where each comes from; the credential masked.
    Show,
}

#[derive(Subcommand, Debug, Clone)]
pub enum OrgsCommand {
    /// Your organizations.
    List,
    /// Create an organization; you become its owner.
    Create {
        /// The slug: lowercase letters, digits and dashes.
        slug: String,
        /// The display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        /// With the root token: the existing user who becomes owner.
        #[arg(long)]
        owner_email: Option<String>,
    },
    /// Show one organization, by id or slug (default: the configured one).
    Show {
        #[arg(value_name = "ORG")]
        organization: Option<String>,
    },
    /// Delete an organization, by id or slug; its keys stop working.
    Delete {
        #[arg(value_name = "ORG")]
        organization: String,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum MembersCommand {
    /// The members of the organization.
    List,
    /// Add an existing user by email.
    Add {
        email: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// A member's roles on resources.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Change a member's role.
    SetRole {
        /// The member's user id or email.
        member: String,
        #[arg(value_enum)]
        role: Role,
    },
    /// Remove a member (or yourself).
    Remove {
        /// The member's user id or email.
        member: String,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum KeysCommand {
    /// The organization's keys (admins see all, others their own).
    List,
    /// Create a key and print it once, alone on standard output.
    Create {
        #[arg(long)]
        name: String,
        /// A permission the key carries; repeat for several.
        #[arg(long = "scope", value_enum, required = true)]
        scopes: Vec<Permission>,
        /// Lifetime such as 30d, 12h, 15m (default: no expiry).
        #[arg(long, value_parser = crate::commands::parse_duration)]
        expires_in: Option<chrono::Duration>,
        /// Restrict the key to this resource path; repeat for several (up to 16).
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// Create it for this service account (needs admin) instead of for yourself.
        #[arg(long)]
        service_account: Option<uuid::Uuid>,
    },
    /// Show one key.
    Show { key_id: uuid::Uuid },
    /// Revoke a key at once.
    Revoke { key_id: uuid::Uuid },
    /// Replace a key and print the new one once, alone on standard output.
    Rotate {
        key_id: uuid::Uuid,
        /// How long the old key keeps working, such as 1h (default: 0, at most 7d).
        #[arg(long, value_parser = crate::commands::parse_duration)]
        grace_period: Option<chrono::Duration>,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ServiceAccountsCommand {
    /// The organization's service accounts.
    List,
    /// Create a service account (role admin, developer, viewer or guest).
    Create {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show one service account.
    Show { service_account: uuid::Uuid },
    /// Rename, describe or change the role of a service account.
    Update {
        service_account: uuid::Uuid,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, value_enum)]
        role: Option<Role>,
    },
    /// Delete a service account; its keys stop working at once.
    Delete { service_account: uuid::Uuid },
    /// A service account's roles on resources.
    #[command(subcommand)]
    Grants(GrantsCommand),
}

/// Roles on resources (`projects/web`) for one member or service account.
#[derive(Subcommand, Debug, Clone)]
pub enum GrantsCommand {
    /// Its grants.
    List {
        /// A member's user id or email, or a service account's id.
        holder: String,
    },
    /// Give a role (admin, developer or viewer) on a resource path, or change it.
    Set {
        holder: String,
        resource: String,
        #[arg(value_enum)]
        role: Role,
    },
    /// Remove the grant on a resource path.
    Remove { holder: String, resource: String },
}

#[derive(Subcommand, Debug, Clone)]
pub enum InvitationsCommand {
    /// Pending invitations, newest first.
    List,
    /// Invite someone by email and print the link to pass on.
    Create {
        email: String,
        #[arg(long, value_enum)]
        role: Role,
        /// A grant given on joining, as RESOURCE=ROLE; repeat for several.
        #[arg(long = "grant", value_parser = crate::commands::parse_grant)]
        grants: Vec<(String, Role)>,
    },
    /// Send a fresh link (the old one stops working) and print it.
    Resend { invitation_id: uuid::Uuid },
    /// Revoke an invitation: its link stops working.
    Revoke { invitation_id: uuid::Uuid },
    /// Accept an invitation (needs a session: `portcullis login`).
    Accept {
        /// The invitation's link, or the `token` of that link.
        #[arg(value_name = "LINK")]
        link: String,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum SessionsCommand {
    /// Your live sessions.
    List,
    /// End one of your sessions.
    Revoke { session_id: uuid::Uuid },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Admin,
    Write,
    Deploy,
    Read,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Developer,
    Viewer,
    Guest,
}
