//! No file einvreg writes may be a file it keeps or reads: a report, a log
//! or an export over the vault would replace every credential in it. Files
//! are compared as files (device and inode, else the path with `..` and
//! symlinks resolved), not as spellings, before any browser starts.

use super::common::is_stdin;
use std::path::{Path, PathBuf};

/// One file a command names, and what it is (`--report`, `the vault`).
pub struct Named {
    pub what: String,
    pub path: PathBuf,
}

/// `what` names `path`.
pub fn named(what: impl Into<String>, path: impl Into<PathBuf>) -> Named {
    Named {
        what: what.into(),
        path: path.into(),
    }
}

/// A store and its lock file (`<file>.lock`), both kept.
pub fn store(what: &str, path: &Path) -> [Named; 2] {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    [named(what, path), named(format!("{what}'s lock"), lock)]
}

/// Refuses an output that is a symlink, that is a kept or read file, or
/// that is another output.
pub fn check(outputs: &[Named], kept: &[Named]) -> Result<(), String> {
    let (outs, kept) = (files(outputs), files(kept));
    for (i, (out, id)) in outs.iter().enumerate() {
        refuse_symlink(out)?;
        let others = outs[..i].iter().chain(&kept);
        if let Some((k, _)) = others.into_iter().find(|(_, kid)| id.same(kid)) {
            return Err(clash(out, k));
        }
    }
    Ok(())
}

/// What each command writes, and what it keeps or reads.
pub(super) fn of(cli: &super::Cli) -> (Vec<Named>, Vec<Named>) {
    use super::Command as C;
    let mut out = vec![];
    let mut kept = vec![];
    // Stores first: a clash names the report or log, not the vault.
    match &cli.command {
        C::Batch(a) => {
            out.extend(store("the vault", &a.vault_file()));
            out.extend(store("the journal", &a.journal_file()));
            out.extend(a.report.iter().map(|p| named("--report", p)));
            out.extend(a.html.iter().map(|p| named("--html", p)));
            operator(&a.operator, &mut out);
            kept.push(named("the CSV", &a.csv));
            kept.extend(a.secrets.iter().map(|p| named("the secrets file", p)));
            kept.extend(a.providers.iter().map(|p| named("--providers", p)));
            flow_unless_repaired(&a.flow, &a.operator, &mut kept);
            keys(&a.keys, &mut kept);
        }
        C::Run(a) => {
            out.extend(store("the vault", &a.vault_file()));
            operator(&a.operator, &mut out);
            kept.extend(a.secrets.iter().map(|p| named("the secrets file", p)));
            kept.extend(a.vars_file.iter().map(|p| named("--vars", p)));
            flow_unless_repaired(&a.flow, &a.operator, &mut kept);
            keys(&a.keys, &mut kept);
        }
        C::Smoke(a) => {
            out.extend(a.html.iter().map(|p| named("--html", p)));
            out.extend(a.junit.iter().map(|p| named("--junit", p)));
            out.extend(a.json.iter().map(|p| named("--json", p)));
            a.flows.iter().for_each(|f| flow(f, &mut kept));
        }
        C::Verify(a) => {
            out.extend(store("the vault", &a.file.path()));
            kept.extend(a.secrets.iter().map(|p| named("the secrets file", p)));
            keys(&a.keys, &mut kept);
        }
        C::Vault(a) => super::vault::files(a, &mut out, &mut kept),
        _ => {}
    }
    if let Some(l) = &cli.log.log_file {
        out.push(named("--log-file", l));
    }
    (out, kept)
}

fn operator(o: &super::common::OperatorArgs, out: &mut Vec<Named>) {
    out.extend(
        o.auto_answer_log
            .iter()
            .map(|p| named("--auto-answer-log", p)),
    );
    out.extend(o.repair_out.iter().map(|p| named("--repair-out", p)));
}

/// The flow is kept, unless `--repair-out` names it: writing the repaired
/// flow over the user's own file is what that asks for.
fn flow_unless_repaired(arg: &str, o: &super::common::OperatorArgs, kept: &mut Vec<Named>) {
    let named_by_out = o.repair_out.as_ref().is_some_and(|out| {
        let both = [named("the flow", arg), named("--repair-out", out)];
        let f = files(&both);
        matches!(f.as_slice(), [(_, a), (_, b)] if a.same(b))
    });
    if !named_by_out {
        flow(arg, kept);
    }
}

/// A flow given as a file (a bundled flow's name is no file).
fn flow(arg: &str, kept: &mut Vec<Named>) {
    if Path::new(arg).is_file() {
        kept.push(named("the flow", arg));
    }
}

/// The age key files `k` names (read, never written).
pub(super) fn keys(k: &super::common::KeyArgs, kept: &mut Vec<Named>) {
    kept.extend(
        k.vault_identity
            .iter()
            .map(|p| named("--vault-identity", p)),
    );
    let r = k.vault_recipients_file.iter();
    kept.extend(r.map(|p| named("--vault-recipients-file", p)));
}

/// Each file with its identity, looked at once; `-` (stdin) is no file.
fn files(list: &[Named]) -> Vec<(&Named, Identity)> {
    let real = list.iter().filter(|n| !is_stdin(&n.path));
    real.map(|n| (n, Identity::of(&n.path))).collect()
}

fn refuse_symlink(out: &Named) -> Result<(), String> {
    let link = std::fs::symlink_metadata(&out.path).is_ok_and(|m| m.file_type().is_symlink());
    match link {
        true => Err(format!(
            "{} {}: is a symbolic link; einvreg writes only to plain files: give the file's own path",
            out.what,
            out.path.display()
        )),
        false => Ok(()),
    }
}

fn clash(out: &Named, k: &Named) -> String {
    let same = match out.path == k.path {
        true => String::new(),
        false => format!(" ({})", k.path.display()),
    };
    format!(
        "{} {} is the same file as {}{same}: writing it would destroy it; give {} another path",
        out.what,
        out.path.display(),
        k.what,
        out.what
    )
}

/// What makes two paths one file.
struct Identity {
    /// Device and inode, when the file exists (hard links share them).
    inode: Option<(u64, u64)>,
    /// The absolute path with its folder's symlinks and `..` resolved.
    resolved: PathBuf,
}

impl Identity {
    fn of(p: &Path) -> Identity {
        Identity {
            inode: inode(p),
            resolved: resolve(p),
        }
    }

    fn same(&self, other: &Identity) -> bool {
        match (self.inode, other.inode) {
            (Some(a), Some(b)) => a == b,
            _ => self.resolved == other.resolved,
        }
    }
}

#[cfg(unix)]
fn inode(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_: &Path) -> Option<(u64, u64)> {
    None
}

/// The file itself resolved when it exists; else its nearest existing
/// folder resolved, with the rest joined on (`..` there taken lexically,
/// as the folders einvreg would make for it).
fn resolve(p: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let parts: Vec<Component> = abs.components().collect();
    for cut in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..cut].iter().collect();
        let Ok(mut r) = std::fs::canonicalize(&head) else {
            continue;
        };
        for c in &parts[cut..] {
            match c {
                Component::ParentDir => drop(r.pop()),
                Component::CurDir => {}
                c => r.push(c),
            }
        }
        return r;
    }
    abs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault_and(dir: &Path) -> (PathBuf, [Named; 2]) {
        let v = dir.join("v.jsonl");
        std::fs::write(&v, "{}\n").unwrap();
        (v.clone(), store("the vault", &v))
    }

    fn run(out: &Path, kept: &[Named]) -> Result<(), String> {
        check(&[named("--report", out)], kept)
    }

    #[test]
    fn the_vault_by_any_spelling_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let (v, kept) = vault_and(d.path());
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let dotdot = d.path().join("sub/../v.jsonl");
        let e = run(&dotdot, &kept).unwrap_err();
        assert!(e.contains("same file as the vault"), "{e}");
        std::fs::hard_link(&v, d.path().join("hard")).unwrap();
        assert!(run(&d.path().join("hard"), &kept).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path(), d.path().join("dirlink")).unwrap();
            assert!(run(&d.path().join("dirlink/v.jsonl"), &kept).is_err());
            std::os::unix::fs::symlink(&v, d.path().join("link")).unwrap();
            let e = run(&d.path().join("link"), &kept).unwrap_err();
            assert!(e.contains("is a symbolic link"), "{e}");
        }
    }

    #[test]
    fn a_lock_file_not_yet_made_is_refused_too() {
        let d = tempfile::tempdir().unwrap();
        let (_, kept) = vault_and(d.path());
        let e = run(&d.path().join("sub/../v.jsonl.lock"), &kept).unwrap_err();
        assert!(e.contains("the vault's lock"), "{e}");
    }

    #[test]
    fn two_outputs_may_not_be_one_file_and_others_pass() {
        let d = tempfile::tempdir().unwrap();
        let (_, kept) = vault_and(d.path());
        let a = d.path().join("r.csv");
        assert!(run(&a, &kept).is_ok());
        let e = check(&[named("--report", &a), named("--html", &a)], &[]).unwrap_err();
        assert!(e.starts_with("--html"), "{e}");
        assert!(run(Path::new("-"), &kept).is_ok());
    }
}
