//! Each command parses its arguments, makes its calls through `portcullis-client`, and prints.

use crate::args::{
    Command, ConfigCommand, GlobalArgs, GrantsCommand, InvitationsCommand, KeysCommand,
    MembersCommand, OrgsCommand, Permission, Role, ServiceAccountsCommand, SessionsCommand,
};
use crate::config::{self, Resolved, mask};
use crate::failure::Failure;
use crate::output::{self, fields, list, optional, table};
use portcullis_client::types::{self, CreateApiKey, CreateOrganization};
use portcullis_client::{Client, Credential, Error, session_token};
use std::io::{BufRead, IsTerminal, Write};
use uuid::Uuid;

pub async fn run(global: GlobalArgs, command: Command) -> Result<(), Failure> {
    let settings = config::resolve(&global)?;
    let json = global.json;
    match command {
        Command::Login { email } => login(settings, email).await,
        Command::Logout => logout(settings).await,
        Command::Config(command) => configure(settings, command),
        Command::Whoami => whoami(&settings, json).await,
        Command::Orgs(command) => orgs(&settings, command, json).await,
        Command::Members(command) => members(&settings, command, json).await,
        Command::Keys(command) => keys(&settings, command, json).await,
        Command::ServiceAccounts(command) => service_accounts(&settings, command, json).await,
        Command::Invitations(command) => invitations(&settings, command, json).await,
        Command::Sessions(command) => sessions(&settings, command, json).await,
        Command::Audit { limit, before } => audit(&settings, limit, before, json).await,
        Command::Authorize {
            permission,
            resource,
        } => authorize(&settings, permission, resource, json).await,
        Command::Token { resource } => token(&settings, resource, json).await,
    }
}

/// A client carrying the credential in force; without one, exit 4 before any request.
fn authenticated(settings: &Resolved) -> Result<Client, Failure> {
    let (credential, _) = settings
        .credential
        .clone()
        .ok_or_else(Failure::not_logged_in)?;
    Ok(Client::connect(&settings.url.0, Some(credential))?)
}

/// The organization in force, by id or slug; a slug is looked up among the caller's. Without
/// one, an API key or access token acts in its own organization.
async fn organization(
    client: &Client,
    settings: &Resolved,
    explicit: Option<&str>,
) -> Result<Uuid, Failure> {
    let wanted = explicit
        .map(str::to_owned)
        .or_else(|| settings.org.as_ref().map(|(org, _)| org.clone()));
    let Some(wanted) = wanted else {
        return client
            .me()
            .await?
            .into_inner()
            .organization_id
            .ok_or_else(|| {
                Failure::usage("no organization: pass --org ID|SLUG, or set PORTCULLIS_ORG")
            });
    };
    if let Ok(id) = wanted.parse::<Uuid>() {
        return Ok(id);
    }
    let orgs = client.list_organizations().await?.into_inner();
    orgs.iter()
        .find(|o| o.slug.as_str() == wanted)
        .map(|o| o.id)
        .ok_or_else(|| {
            Failure::other(format!(
                "no organization with the slug '{wanted}' among yours"
            ))
        })
}

async fn optional_organization(
    client: &Client,
    settings: &Resolved,
) -> Result<Option<Uuid>, Failure> {
    match settings.org {
        Some(_) => organization(client, settings, None).await.map(Some),
        None => Ok(None),
    }
}

/// A value from standard input: a prompt without echo on a terminal, else its first line.
fn read_secret(prompt: &str) -> Result<String, Failure> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map_err(|e| Failure::other(format!("cannot read the terminal: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::other(format!("cannot read standard input: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if value.is_empty() {
        return Err(Failure::usage(format!(
            "{} is empty",
            prompt.trim_end_matches([':', ' '])
        )));
    }
    Ok(value)
}

async fn login(settings: Resolved, email: Option<String>) -> Result<(), Failure> {
    let email = match email {
        Some(email) => email,
        None if std::io::stdin().is_terminal() => {
            eprint!("Email: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::other(format!("cannot read the terminal: {e}")))?;
            line.trim().to_owned()
        }
        None => {
            return Err(Failure::usage(
                "no email: pass --email (standard input is not a terminal)",
            ));
        }
    };
    let password = read_secret("Password: ")?;
    let url = settings.url.0.clone();
    let anonymous = Client::connect(&url, None)?;
    let answer = anonymous
        .login(&types::LoginRequest { email, password })
        .await?;
    let session = session_token(answer.headers())
        .ok_or_else(|| Failure::other("the server set no session cookie"))?;
    let mut file = settings.file;
    file.url = Some(url.clone());
    file.session = Some(session);
    file.token = None;
    let path = config::save(&file)?;
    eprintln!(
        "Logged in to {url} as {}; session stored in {}",
        answer.user.email,
        path.display()
    );
    Ok(())
}

async fn logout(settings: Resolved) -> Result<(), Failure> {
    let mut file = settings.file.clone();
    let Some(session) = file.session.take() else {
        return Err(Failure::usage(
            "no stored session: `portcullis login` first",
        ));
    };
    let client = Client::connect(&settings.url.0, Some(Credential::Session(session)))?;
    match client.logout().await.map_err(Error::from) {
        // An expired or revoked session is already over: forget it all the same.
        Ok(_) | Err(Error::Api { status: 401, .. }) => {}
        Err(e) => return Err(e.into()),
    }
    config::save(&file)?;
    eprintln!("Logged out");
    Ok(())
}

fn configure(settings: Resolved, command: ConfigCommand) -> Result<(), Failure> {
    let mut file = settings.file.clone();
    match command {
        ConfigCommand::SetToken { token } => {
            let token = match token {
                Some(token) => token,
                None => read_secret("Token: ")?,
            };
            file.token = Some(token.trim().to_owned());
            file.session = None;
            let path = config::save(&file)?;
            eprintln!("Token stored in {}", path.display());
        }
        ConfigCommand::SetUrl { url } => {
            file.url = Some(url.trim_end_matches('/').to_owned());
            let path = config::save(&file)?;
            eprintln!("URL stored in {}", path.display());
        }
        ConfigCommand::Show => {
            let (url, url_source) = &settings.url;
            let credential = match &settings.credential {
                Some((credential, source)) => {
                    let kind = match credential {
                        Credential::Session(_) => "session",
                        _ => "token",
                    };
                    format!(
                        "{} ({kind}, from {})",
                        mask(credential.secret()),
                        source.describe("PORTCULLIS_TOKEN")
                    )
                }
                None => "none".into(),
            };
            let org = match &settings.org {
                Some((org, source)) => {
                    format!("{org} (from {})", source.describe("PORTCULLIS_ORG"))
                }
                None => "none".into(),
            };
            fields(&[
                ("config file", config::config_path().display().to_string()),
                (
                    "url",
                    format!("{url} (from {})", url_source.describe("PORTCULLIS_URL")),
                ),
                ("credential", credential),
                ("org", org),
            ]);
        }
    }
    Ok(())
}

async fn whoami(settings: &Resolved, json: bool) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let me = client.me().await?.into_inner();
    if json {
        output::json(&client);
        return Ok(());
    }
    let principal = match &me.user {
        Some(user) => format!("{} ({})", user.email, user.id),
        None => "the platform administrator (root token)".into(),
    };
    fields(&[
        ("principal", principal),
        ("auth method", me.auth_method.to_string()),
        ("organization", optional(&me.organization_id)),
        ("api key", optional(&me.api_key_id)),
        ("scopes", list(&me.scopes)),
    ]);
    if !me.memberships.is_empty() {
        println!();
        table(
            &["ORGANIZATION", "ROLE"],
            me.memberships
                .iter()
                .map(|m| vec![m.organization_id.to_string(), m.role.to_string()]),
        );
    }
    Ok(())
}

fn organization_rows(orgs: &[types::Organization]) {
    table(
        &["ID", "SLUG", "NAME", "CREATED"],
        orgs.iter().map(|o| {
            vec![
                o.id.to_string(),
                o.slug.to_string(),
                o.name.clone(),
                o.created_at.to_rfc3339(),
            ]
        }),
    );
}

async fn orgs(settings: &Resolved, command: OrgsCommand, json: bool) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    match command {
        OrgsCommand::List => {
            let orgs = client.list_organizations().await?.into_inner();
            if json {
                output::json(&client);
            } else {
                organization_rows(&orgs);
            }
        }
        OrgsCommand::Create {
            slug,
            name,
            owner_email,
        } => {
            let name = name.unwrap_or_else(|| slug.clone());
            let slug = slug.parse().map_err(|_| {
                Failure::usage(format!(
                    "'{slug}' is not a valid slug: lowercase letters, digits and dashes"
                ))
            })?;
            let body = CreateOrganization {
                name,
                slug,
                owner_email,
            };
            let org = client.create_organization(&body).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                organization_rows(&[org]);
            }
        }
        OrgsCommand::Show { organization: org } => {
            let id = organization(&client, settings, org.as_deref()).await?;
            let org = client.get_organization(&id).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                organization_rows(&[org]);
            }
        }
        OrgsCommand::Delete { organization: org } => {
            let id = organization(&client, settings, Some(&org)).await?;
            client.delete_organization(&id).await?;
            eprintln!("Deleted organization {id}");
        }
    }
    Ok(())
}

fn role(role: Role) -> types::Role {
    match role {
        Role::Owner => types::Role::Owner,
        Role::Admin => types::Role::Admin,
        Role::Developer => types::Role::Developer,
        Role::Viewer => types::Role::Viewer,
        Role::Guest => types::Role::Guest,
    }
}

fn permission(permission: Permission) -> types::Permission {
    match permission {
        Permission::Admin => types::Permission::Admin,
        Permission::Write => types::Permission::Write,
        Permission::Deploy => types::Permission::Deploy,
        Permission::Read => types::Permission::Read,
    }
}

fn member_rows(members: &[types::Member]) {
    table(
        &["USER ID", "EMAIL", "NAME", "ROLE", "JOINED"],
        members.iter().map(|m| {
            vec![
                m.user_id.to_string(),
                m.email.clone(),
                optional(&m.name),
                m.role.to_string(),
                m.joined_at.to_rfc3339(),
            ]
        }),
    );
}

/// A member named by user id or by email.
async fn member_id(client: &Client, org: &Uuid, member: &str) -> Result<Uuid, Failure> {
    if let Ok(id) = member.parse::<Uuid>() {
        return Ok(id);
    }
    let members = client.list_members(org).await?.into_inner();
    members
        .iter()
        .find(|m| m.email.eq_ignore_ascii_case(member))
        .map(|m| m.user_id)
        .ok_or_else(|| Failure::other(format!("{member} is not a member of the organization")))
}

async fn members(settings: &Resolved, command: MembersCommand, json: bool) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = organization(&client, settings, None).await?;
    match command {
        MembersCommand::List => {
            let members = client.list_members(&org).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                member_rows(&members);
            }
        }
        MembersCommand::Add { email, role: r } => {
            let body = types::AddMember {
                email,
                role: role(r),
            };
            let member = client.add_member(&org, &body).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                member_rows(&[member]);
            }
        }
        MembersCommand::SetRole { member, role: r } => {
            let user = member_id(&client, &org, &member).await?;
            let body = types::ChangeRole { role: role(r) };
            let member = client
                .change_member_role(&org, &user, &body)
                .await?
                .into_inner();
            if json {
                output::json(&client);
            } else {
                member_rows(&[member]);
            }
        }
        MembersCommand::Grants(command) => {
            return grants(&client, &org, command, json, false).await;
        }
        MembersCommand::Remove { member } => {
            let user = member_id(&client, &org, &member).await?;
            client.remove_member(&org, &user).await?;
            eprintln!("Removed {member}");
        }
    }
    Ok(())
}

fn account_rows(accounts: &[types::ServiceAccount]) {
    table(
        &["ID", "NAME", "ROLE", "DESCRIPTION", "CREATED"],
        accounts.iter().map(|a| {
            vec![
                a.id.to_string(),
                a.name.clone(),
                a.role.to_string(),
                optional(&a.description),
                a.created_at.to_rfc3339(),
            ]
        }),
    );
}

async fn service_accounts(
    settings: &Resolved,
    command: ServiceAccountsCommand,
    json: bool,
) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = organization(&client, settings, None).await?;
    let account = match command {
        ServiceAccountsCommand::List => {
            let accounts = client.list_service_accounts(&org).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                account_rows(&accounts);
            }
            return Ok(());
        }
        ServiceAccountsCommand::Create {
            name,
            role: r,
            description,
        } => {
            let body = types::CreateServiceAccount {
                name,
                role: role(r),
                description,
            };
            client.create_service_account(&org, &body).await?
        }
        ServiceAccountsCommand::Show { service_account } => {
            client.get_service_account(&org, &service_account).await?
        }
        ServiceAccountsCommand::Update {
            service_account,
            name,
            description,
            role: r,
        } => {
            let body = types::UpdateServiceAccount {
                name,
                description,
                role: r.map(role),
            };
            client
                .update_service_account(&org, &service_account, &body)
                .await?
        }
        ServiceAccountsCommand::Delete { service_account } => {
            client
                .delete_service_account(&org, &service_account)
                .await?;
            eprintln!("Deleted service account {service_account}; its keys no longer work");
            return Ok(());
        }
        ServiceAccountsCommand::Grants(command) => {
            return grants(&client, &org, command, json, true).await;
        }
    }
    .into_inner();
    if json {
        output::json(&client);
    } else {
        account_rows(&[account]);
    }
    Ok(())
}

/// `members grants …` and `service-accounts grants …`.
async fn grants(
    client: &Client,
    org: &Uuid,
    command: GrantsCommand,
    json: bool,
    of_account: bool,
) -> Result<(), Failure> {
    let holder = match &command {
        GrantsCommand::List { holder }
        | GrantsCommand::Set { holder, .. }
        | GrantsCommand::Remove { holder, .. } => holder.clone(),
    };
    let id = if of_account {
        holder
            .parse::<Uuid>()
            .map_err(|_| Failure::usage(format!("'{holder}' is not a service account id")))?
    } else {
        member_id(client, org, &holder).await?
    };
    match command {
        GrantsCommand::List { .. } => {
            let grants = if of_account {
                client.list_service_account_grants(org, &id).await?
            } else {
                client.list_member_grants(org, &id).await?
            }
            .into_inner();
            if json {
                output::json(client);
            } else {
                grant_rows(&grants);
            }
        }
        GrantsCommand::Set {
            resource, role: r, ..
        } => {
            let body = types::ResourceRole {
                resource,
                role: role(r),
            };
            let grant = if of_account {
                client.set_service_account_grant(org, &id, &body).await?
            } else {
                client.set_member_grant(org, &id, &body).await?
            }
            .into_inner();
            if json {
                output::json(client);
            } else {
                grant_rows(&[grant]);
            }
        }
        GrantsCommand::Remove { resource, .. } => {
            if of_account {
                client
                    .remove_service_account_grant(org, &id, Some(&resource))
                    .await?;
            } else {
                client
                    .remove_member_grant(org, &id, Some(&resource))
                    .await?;
            }
            eprintln!("Removed the grant on {resource}");
        }
    }
    Ok(())
}

async fn invitations(
    settings: &Resolved,
    command: InvitationsCommand,
    json: bool,
) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    if let InvitationsCommand::Accept { link } = command {
        // The whole link as copied, or the token alone.
        let token = link.rsplit_once("token=").map_or(link.as_str(), |(_, t)| t);
        let body = types::InvitationToken {
            token: token.to_owned(),
        };
        let accepted = client.accept_invitation(&body).await?.into_inner();
        if json {
            output::json(&client);
        } else {
            eprintln!(
                "Joined organization {} as {}",
                accepted.organization_id, accepted.role
            );
        }
        return Ok(());
    }
    let org = organization(&client, settings, None).await?;
    let issued = match command {
        InvitationsCommand::List => {
            let pending = client.list_invitations(&org).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                table(
                    &["ID", "EMAIL", "ROLE", "GRANTS", "EXPIRES"],
                    pending.iter().map(|i| {
                        vec![
                            i.id.to_string(),
                            i.email.clone(),
                            i.role.to_string(),
                            grants_text(&i.grants),
                            i.expires_at.to_rfc3339(),
                        ]
                    }),
                );
            }
            return Ok(());
        }
        InvitationsCommand::Create {
            email,
            role: r,
            grants,
        } => {
            let body = types::CreateInvitation {
                email,
                role: role(r),
                grants: grants
                    .into_iter()
                    .map(|(resource, r)| types::ResourceRole {
                        resource,
                        role: role(r),
                    })
                    .collect(),
            };
            client.create_invitation(&org, &body).await?
        }
        InvitationsCommand::Resend { invitation_id } => {
            client.resend_invitation(&org, &invitation_id).await?
        }
        InvitationsCommand::Revoke { invitation_id } => {
            client.revoke_invitation(&org, &invitation_id).await?;
            eprintln!("Revoked invitation {invitation_id}; its link no longer works");
            return Ok(());
        }
        InvitationsCommand::Accept { .. } => unreachable!("handled above"),
    }
    .into_inner();
    if json {
        output::json(&client);
    } else {
        println!("{}", issued.invite_url);
        eprintln!(
            "Invited {} as {}; the link works once, until {}",
            issued.email,
            issued.role,
            issued.expires_at.to_rfc3339()
        );
    }
    Ok(())
}

fn grants_text(grants: &[types::ResourceRole]) -> String {
    grants
        .iter()
        .map(|g| format!("{}={}", g.resource, g.role))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `RESOURCE=ROLE`, as `invitations create --grant` takes it.
pub fn parse_grant(text: &str) -> Result<(String, Role), String> {
    let (resource, name) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not RESOURCE=ROLE (projects/web=developer)"))?;
    let role = <Role as clap::ValueEnum>::from_str(name, false)
        .map_err(|_| format!("'{name}' is not a role"))?;
    Ok((resource.to_owned(), role))
}

fn grant_rows(grants: &[types::Grant]) {
    table(
        &["RESOURCE", "ROLE", "CREATED"],
        grants.iter().map(|g| {
            vec![
                g.resource.clone(),
                g.role.to_string(),
                g.created_at.to_rfc3339(),
            ]
        }),
    );
}

fn key_rows(keys: &[types::ApiKey]) {
    table(
        &["ID", "NAME", "PREFIX", "SCOPES", "EXPIRES", "LAST USED"],
        keys.iter().map(|k| {
            vec![
                k.id.to_string(),
                k.name.clone(),
                k.key_prefix.clone(),
                list(&k.scopes),
                k.expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into()),
                k.last_used_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into()),
            ]
        }),
    );
}

/// The new key alone on standard output, or with `--json` the whole object.
fn print_created_key(client: &Client, created: &types::CreatedApiKeyBody, json: bool) {
    if json {
        output::json(client);
    } else {
        println!("{}", created.key);
        eprintln!(
            "Key {} ({}) created; it is shown only this once",
            created.id, created.name
        );
    }
}

async fn keys(settings: &Resolved, command: KeysCommand, json: bool) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = organization(&client, settings, None).await?;
    match command {
        KeysCommand::List => {
            let keys = client.list_api_keys(&org).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                key_rows(&keys);
            }
        }
        KeysCommand::Create {
            name,
            scopes,
            expires_in,
            resources,
            service_account,
        } => {
            let body = CreateApiKey {
                name,
                scopes: scopes.into_iter().map(permission).collect(),
                expires_at: expires_in.map(|lifetime| chrono::Utc::now() + lifetime),
                resources,
            };
            let created = match service_account {
                Some(account) => {
                    client
                        .create_service_account_api_key(&org, &account, &body)
                        .await?
                }
                None => client.create_api_key(&org, &body).await?,
            }
            .into_inner();
            print_created_key(&client, &created, json);
        }
        KeysCommand::Show { key_id } => {
            let key = client.get_api_key(&org, &key_id).await?.into_inner();
            if json {
                output::json(&client);
            } else {
                key_rows(&[key]);
            }
        }
        KeysCommand::Revoke { key_id } => {
            client.revoke_api_key(&org, &key_id).await?;
            eprintln!("Revoked key {key_id}");
        }
        KeysCommand::Rotate {
            key_id,
            grace_period,
        } => {
            let body = types::RotateApiKey {
                grace_period_seconds: grace_period.map(|g| g.num_seconds()),
            };
            let created = client
                .rotate_api_key(&org, &key_id, &body)
                .await?
                .into_inner();
            print_created_key(&client, &created, json);
        }
    }
    Ok(())
}

async fn sessions(
    settings: &Resolved,
    command: SessionsCommand,
    json: bool,
) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    match command {
        SessionsCommand::List => {
            let sessions = client.list_sessions().await?.into_inner();
            if json {
                output::json(&client);
            } else {
                table(
                    &["ID", "CURRENT", "CREATED", "EXPIRES", "IP", "USER AGENT"],
                    sessions.iter().map(|s| {
                        vec![
                            s.id.to_string(),
                            if s.current { "*".into() } else { String::new() },
                            s.created_at.to_rfc3339(),
                            s.expires_at.to_rfc3339(),
                            optional(&s.ip),
                            optional(&s.user_agent),
                        ]
                    }),
                );
            }
        }
        SessionsCommand::Revoke { session_id } => {
            client.revoke_session(&session_id).await?;
            eprintln!("Revoked session {session_id}");
        }
    }
    Ok(())
}

async fn audit(
    settings: &Resolved,
    limit: Option<std::num::NonZeroU64>,
    before: Option<Uuid>,
    json: bool,
) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = organization(&client, settings, None).await?;
    let events = client
        .list_audit_events(&org, before.as_ref(), limit)
        .await?
        .into_inner();
    if json {
        output::json(&client);
    } else {
        table(
            &["AT", "ACTION", "TARGET", "ACTOR", "KEY", "IP"],
            events.iter().map(|e| {
                vec![
                    e.at.to_rfc3339(),
                    e.action.clone(),
                    e.target.clone(),
                    optional(&e.actor_user_id),
                    optional(&e.actor_api_key_id),
                    optional(&e.ip),
                ]
            }),
        );
    }
    Ok(())
}

async fn authorize(
    settings: &Resolved,
    wanted: Permission,
    resource: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = optional_organization(&client, settings).await?;
    let answer = client
        .authorize(org.as_ref(), permission(wanted), resource.as_deref())
        .await?
        .into_inner();
    if json {
        output::json(&client);
    } else {
        fields(&[
            ("allowed", answer.allowed.to_string()),
            ("organization", answer.organization_id.to_string()),
            ("user", optional(&answer.user_id)),
            ("service account", optional(&answer.service_account_id)),
            ("resource", optional(&answer.resource)),
            ("role", optional(&answer.role)),
            ("scopes", list(&answer.scopes)),
            ("auth method", answer.auth_method.to_string()),
        ]);
    }
    Ok(())
}

async fn token(settings: &Resolved, resource: Option<String>, json: bool) -> Result<(), Failure> {
    let client = authenticated(settings)?;
    let org = optional_organization(&client, settings).await?;
    let body = types::TokenRequest {
        organization_id: org,
        resource,
    };
    let token = client.create_access_token(&body).await?.into_inner();
    if json {
        output::json(&client);
    } else {
        println!("{}", token.access_token);
    }
    Ok(())
}

/// `30d`, `12h`, `15m`, `90s`: a whole number and one unit.
pub fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 30d, 12h, 15m or 90s"))?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "'{text}' is not a duration such as 30d, 12h, 15m or 90s"
            ));
        }
    };
    number
        .checked_mul(seconds)
        .map(chrono::Duration::seconds)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_take_days_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_duration("12h"), Ok(chrono::Duration::hours(12)));
        assert_eq!(parse_duration("15m"), Ok(chrono::Duration::minutes(15)));
        assert_eq!(parse_duration("90s"), Ok(chrono::Duration::seconds(90)));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("3w").is_err());
    }
}
