//! `--desk*`: the answer desk's options, read and checked here (the
//! certificate files too) before any browser starts.

use super::common::parse_duration_arg;
use crate::desk::{Desk, DeskConfig, Notify};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct DeskArgs {
    /// Serve the answer desk: a web page where operators answer captchas and OTPs (on 127.0.0.1, a free port)
    #[arg(long)]
    pub desk: bool,
    /// Where the desk listens; anything but loopback needs --desk-tls
    #[arg(long, value_name = "ADDR:PORT")]
    pub desk_bind: Option<String>,
    /// HTTPS for the desk: certificate chain and private key (PEM)
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    pub desk_tls: Vec<PathBuf>,
    /// Each OTP also gets a single-use link where the taxpayer types it
    #[arg(long)]
    pub desk_otp_links: bool,
    /// Sends each taxpayer link (SMS, e-mail, chat): gets EINVREG_DESK_LINK, EINVREG_GSTIN, EINVREG_MOBILE
    #[arg(long, value_name = "CMD")]
    pub desk_notify_command: Option<String>,
    /// How long a taxpayer link stays valid (the OTP's validity)
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub desk_link_ttl: String,
    /// The desk's address as taxpayers reach it, for their links (e.g. https://desk.example.in:8443)
    #[arg(long, value_name = "URL")]
    pub desk_url: Option<String>,
}

impl DeskArgs {
    /// The desk asked for, checked; `None` without `--desk`.
    pub fn config(&self, timeout: Duration) -> Result<Option<DeskConfig>, String> {
        if !self.desk {
            return self.unused().map(|()| None);
        }
        let bind = self.bind()?;
        let tls = match self.desk_tls.as_slice() {
            [cert, key] => Some(
                crate::desk::server_config(cert, key)
                    .map_err(|e| format!("--desk-tls: {}", crate::chain::Chain(&e)))?,
            ),
            _ => None,
        };
        if tls.is_none() && !bind.ip().is_loopback() {
            return Err(format!("--desk-bind {bind} offers the desk beyond this machine: give --desk-tls CERT KEY too (plain HTTP would carry OTPs and the desk token in clear), or bind 127.0.0.1"));
        }
        let links = match self.desk_otp_links {
            true => Some(parse_duration_arg("--desk-link-ttl", &self.desk_link_ttl)?),
            false => None,
        };
        if self.desk_notify_command.is_some() && links.is_none() {
            return Err("--desk-notify-command sends taxpayer links: add --desk-otp-links".into());
        }
        let public_url = self.public_url()?;
        if links.is_some() && bind.ip().is_unspecified() && public_url.is_none() {
            return Err(format!("taxpayer links must name an address people can reach, not {bind}: give --desk-url https://HOST:PORT"));
        }
        Ok(Some(DeskConfig {
            bind,
            tls,
            links,
            notify: self
                .desk_notify_command
                .as_ref()
                .map(|c| Notify { command: c.clone() }),
            timeout,
            public_url,
        }))
    }

    /// Refuses `--desk-*` options given without `--desk`.
    fn unused(&self) -> Result<(), String> {
        let given = [
            ("--desk-bind", self.desk_bind.is_some()),
            ("--desk-tls", !self.desk_tls.is_empty()),
            ("--desk-otp-links", self.desk_otp_links),
            ("--desk-notify-command", self.desk_notify_command.is_some()),
            ("--desk-url", self.desk_url.is_some()),
        ];
        match given.iter().find(|(_, on)| *on) {
            Some((name, _)) => Err(format!("{name} is an answer-desk option: add --desk")),
            None => Ok(()),
        }
    }

    fn bind(&self) -> Result<SocketAddr, String> {
        let text = self.desk_bind.as_deref().unwrap_or("127.0.0.1:0");
        text.parse().map_err(|_| {
            format!("--desk-bind: `{text}` is not ADDR:PORT (e.g. 127.0.0.1:8765, or 0.0.0.0:8443 with --desk-tls)")
        })
    }

    fn public_url(&self) -> Result<Option<String>, String> {
        let Some(u) = &self.desk_url else {
            return Ok(None);
        };
        match url::Url::parse(u) {
            Ok(p) if matches!(p.scheme(), "http" | "https") && p.host().is_some() => {
                Ok(Some(u.clone()))
            }
            _ => Err(format!(
                "--desk-url: `{u}` is not an http(s) address such as https://desk.example.in:8443"
            )),
        }
    }
}

/// Starts the desk and tells the person how to reach it.
pub async fn start(cfg: DeskConfig) -> Result<Desk, String> {
    let desk = Desk::start(cfg)
        .await
        .map_err(|e| crate::chain::chain(&e))?;
    // Printed for the person at the console only: never logged.
    errln!(
        "answer desk: {url}\n  sign in (this link works once): {once}\n  more operators: open {url}/login and paste the desk token {token}",
        url = desk.url(),
        once = desk.sign_in_link(),
        token = desk.token()
    );
    Ok(desk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut DeskArgs)) -> Result<Option<DeskConfig>, String> {
        let mut a = DeskArgs {
            desk_link_ttl: "10m".into(),
            ..DeskArgs::default()
        };
        f(&mut a);
        a.config(Duration::from_secs(300))
    }

    #[test]
    fn the_desk_is_loopback_unless_tls_and_its_options_need_it() {
        assert!(args(|_| {}).unwrap().is_none());
        let c = args(|a| a.desk = true).unwrap().unwrap();
        assert!(c.bind.ip().is_loopback() && c.tls.is_none() && c.links.is_none());
        let e = args(|a| {
            a.desk = true;
            a.desk_bind = Some("0.0.0.0:8443".into());
        })
        .unwrap_err();
        assert!(e.contains("--desk-tls CERT KEY"), "{e}");
        let e = args(|a| a.desk_otp_links = true).unwrap_err();
        assert_eq!(e, "--desk-otp-links is an answer-desk option: add --desk");
        let e = args(|a| {
            a.desk = true;
            a.desk_notify_command = Some("true".into());
        })
        .unwrap_err();
        assert!(e.contains("add --desk-otp-links"), "{e}");
        let e = args(|a| {
            a.desk = true;
            a.desk_bind = Some("localhost".into());
        })
        .unwrap_err();
        assert!(e.contains("is not ADDR:PORT"), "{e}");
        let e = args(|a| {
            a.desk = true;
            a.desk_tls = vec![
                "/nonexistent/cert.pem".into(),
                "/nonexistent/key.pem".into(),
            ];
        })
        .unwrap_err();
        assert!(e.starts_with("--desk-tls: /nonexistent/cert.pem:"), "{e}");
        let e = args(|a| {
            a.desk = true;
            a.desk_otp_links = true;
            a.desk_link_ttl = "soon".into();
        })
        .unwrap_err();
        assert!(e.contains("--desk-link-ttl"), "{e}");
    }
}
