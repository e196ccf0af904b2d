//! `lotse admin …`: staff accounts, second factors and API tokens from the command line, on the
//! store the portal uses (`DATA/store`, which must exist: `lotse init` creates it; or PostgreSQL
//! with `--database-url-env`). sled allows one process at a time: run these while the portal is
//! stopped. Passwords never come from the arguments (they would show in `ps`): from the
//! environment variable `LOTSE_ADMIN_PASSWORD`, or with `--password-stdin` from the first line
//! of standard input.

use lotse_core::portal::Portal;
use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use lotse_core::{Clock, SystemClock};
use lotse_store::{
    AccountStore, AnyStore, ApiTokenId, PgOptions, PgStore, Role, TenantId, redact_url,
};

use crate::admin::accounts::{self, NewAccount};
use crate::admin::protocol as audit;

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "LOTSE_ADMIN_PASSWORD";

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Create the first administrator of a tenant (refused if it has one already).
    CreateAdmin {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// The name shown in the Postkorb (default: the login).
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of stdin instead of LOTSE_ADMIN_PASSWORD.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Add an account with a role: case_worker (Sachbearbeitung), tenant_admin, form_designer.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts of a tenant.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Disable an account: its sessions end, its API tokens stop working.
    Disable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
    },
    /// Change an account's role (its sessions end).
    SetRole {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: String,
    },
    /// Set a new password (its sessions end).
    SetPassword {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set up a second factor (TOTP, RFC 6238) for an account: prints the secret and an
    /// otpauth:// URI for the authenticator app once; from then on signing in needs the app's
    /// current code too. Run again to replace the secret (a lost phone).
    TotpEnable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
    },
    /// Remove an account's second factor (signing in needs the password only again).
    TotpDisable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
    },
    /// Create an API token acting as an account; the token is printed once.
    TokenCreate {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// What it is for, e.g. "Fachverfahren Hundesteuer".
        #[arg(long)]
        label: String,
    },
    /// List a tenant's API tokens (ids and labels, never the secrets).
    TokenList {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke an API token by its id.
    TokenRevoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
    },
    /// Print a tenant's audit log as JSON lines, oldest first: when, who (an account's id and
    /// its login), what (ids and codes, never what a citizen wrote) and the request's id.
    /// Reads of submissions (their page, API record, receipt and files) are in it too.
    Audit {
        #[arg(long)]
        tenant: String,
        /// Only the entries about this submission: its reference (Aktenzeichen, also of a
        /// submission purged since) or its id (as in the Postkorb's address).
        #[arg(long)]
        submission: Option<String>,
        /// Only the entries from this day on (YYYY-MM-DD, Berlin time).
        #[arg(long)]
        since: Option<String>,
        /// `jsonl` (one JSON object per line, as stored) or `csv` (a table in German for a
        /// spreadsheet: when, who, what, the reference).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: audit::Format,
    },
}

fn tenant(portal: &Portal, slug: &str) -> anyhow::Result<TenantId> {
    let t = portal.find(slug).with_context(|| {
        format!(
            "unknown tenant {slug:?}; tenants: {}",
            portal.slugs().join(", ")
        )
    })?;
    Ok(TenantId::new(&t.slug, &t.prefix)?)
}

fn role(text: &str) -> anyhow::Result<Role> {
    Ok(text.parse::<Role>()?)
}

fn password(from_stdin: bool) -> anyhow::Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(p) => p,
            Err(_) => bail!(
                "no password: set {PASSWORD_ENV} or pass --password-stdin and write it to stdin"
            ),
        }
    };
    if pw.chars().count() < accounts::MIN_PASSWORD {
        bail!(
            "the password must have at least {} characters",
            accounts::MIN_PASSWORD
        );
    }
    Ok(pw)
}

fn open(data: &Path, database_url_env: Option<&str>) -> anyhow::Result<AnyStore> {
    if let Some(var) = database_url_env {
        let url = std::env::var(var)
            .with_context(|| format!("the environment variable {var} is not set"))?;
        return Ok(PgStore::connect(&PgOptions::new(url.clone()))
            .with_context(|| format!("opening the PostgreSQL store at {}", redact_url(&url)))?
            .into());
    }
    // A data folder without a store is an error (a typo must not start a new, empty one):
    // `lotse init` creates it for the first administrator.
    Ok(crate::nodes::open_existing_sled(data)?.into())
}

/// Runs one command on the sled store under `data`, or on PostgreSQL when `database_url_env`
/// names the variable holding the database URL (the portal may keep running then).
pub fn run(
    project: &Path,
    data: &Path,
    database_url_env: Option<&str>,
    cmd: AdminCmd,
) -> anyhow::Result<()> {
    let (portal, _) = crate::tenants::load(project);
    let store = open(data, database_url_env)?;
    let now = SystemClock.now();
    let result = run_on(&portal, &store, cmd, now);
    store.close()?;
    result
}

fn run_on(
    portal: &Portal,
    store: &AnyStore,
    cmd: AdminCmd,
    now: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let err = |e: crate::admin::AdminError| anyhow::anyhow!("{e}");
    match cmd {
        AdminCmd::CreateAdmin {
            tenant: slug,
            login,
            name,
            password_stdin,
        } => {
            let t = tenant(portal, &slug)?;
            if store
                .accounts(&t)?
                .iter()
                .any(|a| a.role == Role::TenantAdmin)
            {
                bail!(
                    "{slug} has an administrator already; use `lotse admin add --role tenant_admin`"
                );
            }
            let pw = password(password_stdin)?;
            let a = accounts::create_account(
                store,
                &t,
                NewAccount {
                    login: &login,
                    display_name: &name,
                    role: Role::TenantAdmin,
                    password: &pw,
                },
                accounts::default_params(),
                now,
            )
            .map_err(err)?;
            println!("Administrator {} für {slug} angelegt ({}).", a.login, a.id);
        }
        AdminCmd::Add {
            tenant: slug,
            login,
            role: r,
            name,
            password_stdin,
        } => {
            let t = tenant(portal, &slug)?;
            let r = role(&r)?;
            let pw = password(password_stdin)?;
            let a = accounts::create_account(
                store,
                &t,
                NewAccount {
                    login: &login,
                    display_name: &name,
                    role: r,
                    password: &pw,
                },
                accounts::default_params(),
                now,
            )
            .map_err(err)?;
            println!(
                "Konto {} ({}) für {slug} angelegt ({}).",
                a.login,
                r.label_de(),
                a.id
            );
        }
        AdminCmd::List { tenant: slug } => {
            for a in store.accounts(&tenant(portal, &slug)?)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    a.login,
                    a.role.code(),
                    if a.disabled { "gesperrt" } else { "aktiv" },
                    a.display_name,
                    a.id,
                    if a.totp_secret.is_some() { "totp" } else { "-" }
                );
            }
        }
        AdminCmd::Disable {
            tenant: slug,
            login,
        } => {
            let mut a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            a.disabled = true;
            accounts::update(store, &a).map_err(err)?;
            println!("{} gesperrt; Sitzungen beendet.", a.login);
        }
        AdminCmd::Enable {
            tenant: slug,
            login,
        } => {
            let mut a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            a.disabled = false;
            accounts::update(store, &a).map_err(err)?;
            println!("{} wieder aktiv.", a.login);
        }
        AdminCmd::SetRole {
            tenant: slug,
            login,
            role: r,
        } => {
            let mut a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            a.role = role(&r)?;
            accounts::update(store, &a).map_err(err)?;
            println!("{}: Rolle {}.", a.login, a.role.label_de());
        }
        AdminCmd::SetPassword {
            tenant: slug,
            login,
            password_stdin,
        } => {
            let mut a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            let pw = password(password_stdin)?;
            a.password_hash =
                accounts::hash_password(&pw, accounts::default_params()).map_err(err)?;
            accounts::update(store, &a).map_err(err)?;
            println!("{}: neues Passwort gesetzt.", a.login);
        }
        AdminCmd::TotpEnable {
            tenant: slug,
            login,
        } => {
            let t = tenant(portal, &slug)?;
            let mut a = accounts::find(store, &t, &login).map_err(err)?;
            let secret = accounts::new_totp_secret().map_err(err)?;
            a.totp_secret = Some(secret.clone());
            accounts::update(store, &a).map_err(err)?;
            let issuer = portal.find(&slug).map_or(slug.clone(), |t| t.name.clone());
            eprintln!(
                "Zweiter Faktor für {} eingerichtet; Sitzungen beendet. Tragen Sie den Schlüssel jetzt in die Authenticator-App ein (er wird nur jetzt angezeigt):",
                a.login
            );
            println!("{secret}");
            println!("{}", accounts::totp_uri(&secret, &issuer, &a.login));
        }
        AdminCmd::TotpDisable {
            tenant: slug,
            login,
        } => {
            let mut a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            a.totp_secret = None;
            accounts::update(store, &a).map_err(err)?;
            println!("{}: zweiter Faktor entfernt.", a.login);
        }
        AdminCmd::TokenCreate {
            tenant: slug,
            login,
            label,
        } => {
            let a = accounts::find(store, &tenant(portal, &slug)?, &login).map_err(err)?;
            let (token, secret) = accounts::create_token(store, &a, &label, now).map_err(err)?;
            eprintln!(
                "API-Token {} für {} angelegt. Es wird nur jetzt angezeigt:",
                token.id, a.login
            );
            println!("{secret}");
        }
        AdminCmd::TokenList { tenant: slug } => {
            let t = tenant(portal, &slug)?;
            for tok in store.api_tokens(&t)? {
                let owner = store
                    .account(&tok.account)?
                    .map(|a| a.login)
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}",
                    tok.id,
                    owner,
                    if tok.revoked { "widerrufen" } else { "aktiv" },
                    tok.label
                );
            }
        }
        AdminCmd::TokenRevoke { tenant: slug, id } => {
            let id: ApiTokenId = id.parse()?;
            if !store.revoke_api_token(&tenant(portal, &slug)?, &id)? {
                bail!("{slug} has no API token {id}");
            }
            println!("API-Token {id} widerrufen.");
        }
        AdminCmd::Audit {
            tenant: slug,
            submission,
            since,
            format,
        } => {
            let t = tenant(portal, &slug)?;
            let filter = audit::Filter {
                submission: submission
                    .map(|s| match audit::submission_named(store, &t, &s)? {
                        audit::Named::Found(id) => Ok(id),
                        audit::Named::NotAName => bail!(
                            "--submission: \"{s}\" is neither a submission id (32 hex digits, as in the Postkorb's address) nor a reference like HEI-2026-000123"
                        ),
                        audit::Named::Unknown(r) => bail!("{slug} has no submission {r}"),
                    })
                    .transpose()?,
                since: since
                    .map(|d| crate::admin::day_start(&d, "--since"))
                    .transpose()
                    .map_err(err)?,
            };
            let mut out = std::io::stdout().lock();
            audit::print(store, &t, &filter, format, &mut out)?;
        }
    }
    Ok(())
}
