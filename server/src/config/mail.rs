//! `[mail]`: the SMTP server the portal sends through, the sender, and where links in mails
//! point (docs/email.md). Credentials are named by the environment variables that hold them,
//! so they never stand in a file or a log.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP, then STARTTLS before anything is sent; refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a server on this machine (a loopback address).
    None,
}

/// `[mail]` in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `host:port` of the SMTP server (submission port 587, 465 for TLS, 25 on loopback).
    pub smtp: String,
    #[serde(default)]
    pub tls: TlsMode,
    /// The sender: `Serviceportal Kreis Heinsberg <noreply@kreis-heinsberg.example>`. A
    /// tenant may have its own.
    pub from: String,
    /// Where answers go; unset: the tenant's contact address from its portal file.
    pub reply_to: Option<String>,
    /// The portal's address as citizens reach it (`https://service.kreis-heinsberg.example`),
    /// for the links in mails.
    pub public_url: String,
    /// The environment variables with the SMTP user name and password (both or neither).
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    /// Seconds one attempt may take: 1–120, default 30.
    pub timeout_seconds: Option<u64>,
    /// For TLS: trust only the CA certificates in this PEM file instead of the system's.
    pub ca_file: Option<PathBuf>,
}

/// `[tenants.<slug>.mail]`: a tenant's own sender and reply address.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantMail {
    pub from: Option<String>,
    pub reply_to: Option<String>,
}

impl MailConfig {
    /// `LOTSE_MAIL_SMTP` (with `LOTSE_MAIL_FROM` and `LOTSE_MAIL_PUBLIC_URL`) configures mail
    /// without a file; `LOTSE_MAIL_TLS` sets the protection.
    pub fn apply_env(
        mail: &mut Option<MailConfig>,
        get: &impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<()> {
        if let Some(smtp) = get("LOTSE_MAIL_SMTP") {
            let from = get("LOTSE_MAIL_FROM")
                .or_else(|| mail.as_ref().map(|m| m.from.clone()))
                .context("LOTSE_MAIL_SMTP needs LOTSE_MAIL_FROM (the sender) as well")?;
            let public_url = get("LOTSE_MAIL_PUBLIC_URL")
                .or_else(|| mail.as_ref().map(|m| m.public_url.clone()))
                .context("LOTSE_MAIL_SMTP needs LOTSE_MAIL_PUBLIC_URL (the portal's address for links) as well")?;
            let base = mail.take();
            *mail = Some(MailConfig {
                smtp,
                from,
                public_url,
                ..base.unwrap_or_else(|| MailConfig {
                    smtp: String::new(),
                    tls: TlsMode::default(),
                    from: String::new(),
                    reply_to: None,
                    public_url: String::new(),
                    username_env: None,
                    password_env: None,
                    timeout_seconds: None,
                    ca_file: None,
                })
            });
        }
        if let Some(v) = get("LOTSE_MAIL_TIMEOUT_SECONDS") {
            let Some(m) = mail.as_mut() else {
                bail!("LOTSE_MAIL_TIMEOUT_SECONDS is set, but no SMTP server is configured");
            };
            m.timeout_seconds = Some(v.parse().with_context(|| {
                format!("LOTSE_MAIL_TIMEOUT_SECONDS={v} is not a number of seconds")
            })?);
        }
        if let Some(v) = get("LOTSE_MAIL_TLS") {
            let Some(m) = mail.as_mut() else {
                bail!("LOTSE_MAIL_TLS is set, but no SMTP server is configured");
            };
            m.tls = match v.as_str() {
                "starttls" => TlsMode::Starttls,
                "tls" => TlsMode::Tls,
                "none" => TlsMode::None,
                _ => bail!("LOTSE_MAIL_TLS={v}: expected starttls, tls or none"),
            };
        }
        Ok(())
    }

    /// The host and port of `smtp`.
    pub fn host_port(&self) -> anyhow::Result<(String, u16)> {
        let (host, port) = self
            .smtp
            .rsplit_once(':')
            .with_context(|| format!("[mail] smtp = \"{}\": expected host:port", self.smtp))?;
        let port: u16 = port.parse().ok().filter(|p| *p > 0).with_context(|| {
            format!("[mail] smtp = \"{}\": the port is not a number", self.smtp)
        })?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            bail!("[mail] smtp = \"{}\": no host", self.smtp);
        }
        Ok((host.to_string(), port))
    }

    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> anyhow::Result<()> {
        let (host, _) = self.host_port()?;
        if self.tls == TlsMode::None {
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                bail!(
                    "[mail] tls = \"none\" is only allowed for an SMTP server on this machine (a loopback address), not {host}"
                );
            }
        }
        let url = self.public_url.trim_end_matches('/');
        let ok = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(['?', '#', ' ']));
        if !ok {
            bail!(
                "[mail] public_url = \"{}\": expected the portal's address, e.g. https://service.kreis-heinsberg.example",
                self.public_url
            );
        }
        if self.username_env.is_some() != self.password_env.is_some() {
            bail!("[mail] username_env and password_env go together: set both or neither");
        }
        if let Some(t) = self.timeout_seconds
            && !(1..=120).contains(&t)
        {
            bail!("[mail] timeout_seconds must be between 1 and 120, not {t}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn get(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_environment_configures_mail_and_plain_smtp_only_on_loopback() {
        let mut m = None;
        MailConfig::apply_env(
            &mut m,
            &get(&[
                ("LOTSE_MAIL_SMTP", "127.0.0.1:2525"),
                ("LOTSE_MAIL_FROM", "Portal <noreply@example.org>"),
                ("LOTSE_MAIL_PUBLIC_URL", "http://127.0.0.1:8080"),
                ("LOTSE_MAIL_TLS", "none"),
            ]),
        )
        .unwrap();
        let m = m.unwrap();
        assert_eq!(m.host_port().unwrap(), ("127.0.0.1".into(), 2525));
        m.validate().unwrap();
        let far = MailConfig {
            smtp: "mail.example.org:25".into(),
            ..m.clone()
        };
        assert!(far.validate().unwrap_err().to_string().contains("loopback"));
        let half = MailConfig {
            username_env: Some("U".into()),
            ..m
        };
        assert!(half.validate().is_err());
        let mut none = None;
        let err = MailConfig::apply_env(&mut none, &get(&[("LOTSE_MAIL_SMTP", "x:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("LOTSE_MAIL_FROM"), "{err}");
    }
}
