//! Installed einvreg: the release binary alone in an empty folder, the
//! .deb with its completions and man pages, and a checkout free of
//! einvreg's own outputs.

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// `scripts/package-deb` (the test command ran it already; then this is quick):
/// the release binary and a copy of the .deb in `dir` (another test's run
/// may rewrite the original meanwhile).
fn packaged(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    // The test runner's CARGO_* variables (CARGO_MANIFEST_DIR, ...) would
    // make cargo rebuild what the test command just built.
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/package-deb"))
        .arg("--out")
        .arg(dir)
        .env("EINVREG_NO_INSTALL", "1");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("bash scripts/package-deb");
    assert!(
        out.status.success(),
        "scripts/package-deb failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deb = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root().join("target"), PathBuf::from);
    (target.join("release/einvreg"), PathBuf::from(deb))
}

fn sh(script: &str) -> (bool, String) {
    let o = Command::new("bash").args(["-c", script]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

#[test]
fn the_release_binary_alone_runs_check_run_and_smoke() {
    let copy = tempfile::tempdir().unwrap();
    let (release, _) = packaged(copy.path());
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("einvreg");
    std::fs::copy(&release, &bin).unwrap();
    // Nothing points back into the source tree.
    let bytes = std::fs::read(&bin).unwrap();
    for inside in ["flows", "fixtures"] {
        let p = root().join(inside).display().to_string();
        assert!(
            !bytes.windows(p.len()).any(|w| w == p.as_bytes()),
            "the binary names {p}"
        );
    }
    let t = || {
        Test::new()
            .bin(&bin)
            .cwd(dir.path())
            .env("HOME", dir.path().display().to_string())
    };
    let d = t()
        .args(["check", "production-api-user", "sandbox-register"])
        .run();
    assert!(
        d.stderr.contains("production-api-user (bundled): ok"),
        "{}",
        d.stderr
    );
    let d = t().args(["flows", "show", "sandbox-register"]).run();
    assert!(d.stdout.contains("[flow]"), "{}", d.stdout);
    let d = t()
        .args(demo_run("replica"))
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .timeout(Duration::from_secs(180))
        .run();
    assert!(
        d.stdout.contains("API_udaytera") || d.stderr.contains("API_udaytera"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 1);
    let d = t()
        .args([
            "smoke",
            "production-api-user",
            "sandbox-register",
            "--portal",
            "replica",
        ])
        .timeout(Duration::from_secs(180))
        .run();
    assert!(d.stdout.contains("0 drift, 0 unreachable"), "{}", d.stdout);
}

#[test]
fn the_deb_installs_and_its_binary_completions_and_man_pages_work() {
    let copy = tempfile::tempdir().unwrap();
    let (_, deb) = packaged(copy.path());
    // Its contents, whether or not this machine may install it.
    let (ok, listing) = sh(&format!(
        "dpkg-deb -c {} && dpkg-deb -f {} Depends",
        deb.display(),
        deb.display()
    ));
    assert!(ok, "{listing}");
    for want in [
        "./usr/bin/einvreg",
        "./usr/share/man/man1/einvreg.1.gz",
        "./usr/share/man/man1/einvreg-batch.1.gz",
        "./usr/share/bash-completion/completions/einvreg",
        "./usr/share/zsh/vendor-completions/_einvreg",
        "./usr/share/fish/vendor_completions.d/einvreg.fish",
    ] {
        assert!(listing.contains(want), "the .deb lacks {want}:\n{listing}");
    }
    assert!(listing.contains("chromium, chromium-driver"), "{listing}");
    let x = tempfile::tempdir().unwrap();
    let (ok, out) = sh(&format!(
        "dpkg-deb -x {} {} && man -l {}/usr/share/man/man1/einvreg-run.1.gz | head -40",
        deb.display(),
        x.path().display(),
        x.path().display()
    ));
    assert!(
        ok && out.contains("einvreg-run") && out.contains("--portal"),
        "{out}"
    );
    if unsafe { libc::geteuid() } != 0 {
        println!(
            "SKIPPED installing with dpkg -i: the test runs as uid {}, not root",
            unsafe { libc::geteuid() }
        );
        return;
    }
    let (ok, out) = sh(&format!("dpkg -i {}", deb.display()));
    assert!(ok, "dpkg -i: {out}");
    let installed = PathBuf::from("/usr/bin/einvreg");
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .bin(&installed)
        .cwd(dir.path())
        .arg("--version")
        .run();
    assert!(d.stdout.starts_with("einvreg "), "{}", d.stdout);
    let d = Test::new()
        .bin(&installed)
        .cwd(dir.path())
        .args(["check", "sandbox-register"])
        .run();
    assert!(
        d.stderr.contains("sandbox-register (bundled): ok"),
        "{}",
        d.stderr
    );
    // bash completes subcommands and a command's options.
    let (ok, out) = sh(
        "source /usr/share/bash-completion/completions/einvreg && \
         COMP_WORDS=(einvreg fl); COMP_CWORD=1; _einvreg einvreg fl einvreg; echo \"1: ${COMPREPLY[@]}\"; \
         COMP_WORDS=(einvreg batch --ht); COMP_CWORD=2; _einvreg einvreg --ht batch; echo \"2: ${COMPREPLY[@]}\"",
    );
    assert!(
        ok && out.contains("1: flows") && out.contains("2: --html"),
        "{out}"
    );
    // The man page, where dpkg put it (unless this machine excludes man pages).
    let page = "/usr/share/man/man1/einvreg.1.gz";
    if std::path::Path::new(page).exists() {
        let (ok, out) = sh(&format!("man -l {page} | head -20"));
        assert!(ok && out.contains("einvreg"), "{out}");
    } else {
        println!("dpkg's path-exclude left out {page} on this machine; the page was read from the .deb above");
    }
    let (ok, out) = sh("dpkg -r einvreg");
    assert!(ok, "dpkg -r: {out}");
}

/// The .deb passes lintian with no error, and every page a packaged man
/// page points to (`einvreg-vault-list(1)`, ...) is packaged too; the
/// flow language, the changelog and the copyright go in its doc folder.
#[test]
fn the_deb_is_lintian_clean_and_every_man_page_it_names_is_in_it() {
    let copy = tempfile::tempdir().unwrap();
    let (_, deb) = packaged(copy.path());
    // lintian refuses to run as root without this (the test command may be root).
    let (ok, out) = sh(&format!(
        "lintian --allow-root --fail-on error --tag-display-limit 0 {}",
        deb.display()
    ));
    assert!(ok, "lintian reports errors:\n{out}");
    assert!(!out.contains("\nE: ") && !out.starts_with("E: "), "{out}");
    let x = tempfile::tempdir().unwrap();
    let (ok, out) = sh(&format!(
        "dpkg-deb -x {} {}",
        deb.display(),
        x.path().display()
    ));
    assert!(ok, "{out}");
    let man = x.path().join("usr/share/man/man1");
    let have: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .replace(".1.gz", "")
        })
        .collect();
    assert!(have.contains(&"einvreg-vault-list".to_string()), "{have:?}");
    let named = regex::Regex::new(r"(einvreg(?:\\-[a-z]+)*)\(1\)").unwrap();
    for page in &have {
        let (ok, text) = sh(&format!("zcat {}/{page}.1.gz", man.display()));
        assert!(ok, "{text}");
        for c in named.captures_iter(&text) {
            let name = c[1].replace("\\-", "-");
            assert!(
                have.contains(&name),
                "{page}(1) names {name}(1), which is not packaged"
            );
        }
    }
    let doc = x.path().join("usr/share/doc/einvreg");
    for f in [
        "flow-language.md",
        "changelog.gz",
        "changelog.Debian.gz",
        "copyright",
    ] {
        assert!(doc.join(f).exists(), "{f} is not in {}", doc.display());
    }
    let copyright = std::fs::read_to_string(doc.join("copyright")).unwrap();
    assert!(copyright.contains("\nCopyright: "), "{copyright}");
    // The Debian changelog's version is the package's.
    let (ok, top) = sh(&format!(
        "zcat {}/changelog.Debian.gz | head -1",
        doc.display()
    ));
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        ok && top.starts_with(&format!("einvreg ({version}-1)")),
        "{top}"
    );
}

/// The checkout holds none of einvreg's default outputs (a vault, a
/// journal, their locks), and git ignores them where a run leaves them.
#[test]
fn the_repository_holds_no_default_outputs() {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .expect("git runs (the tests run in a clone of the repository)");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, tracked) = git(&["ls-files"]);
    assert_eq!(code, Some(0), "git ls-files in {}", root().display());
    let outputs: Vec<&str> = tracked
        .lines()
        .filter(|f| {
            f.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with("einvreg-"))
        })
        .collect();
    assert!(outputs.is_empty(), "default outputs committed: {outputs:?}");
    for f in [
        "einvreg-vault.jsonl",
        "einvreg-journal.jsonl.lock",
        "einvreg-runs/x",
    ] {
        let (code, _) = git(&["check-ignore", "-q", "--no-index", f]);
        assert_eq!(code, Some(0), "{f} is not ignored");
    }
}
