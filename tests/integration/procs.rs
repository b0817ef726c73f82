//! The processes einvreg starts, read from /proc: to kill one of them at a
//! chosen moment, and to prove none outlives einvreg.

use std::time::Duration;

/// One process: its pid, parent, process group and command name.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub comm: String,
}

/// Every process on the machine.
pub fn all() -> Vec<Proc> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // State Z: already dead, waiting for its parent.
        if f.first() == Some(&"Z") {
            continue;
        }
        let num = |i: usize| f.get(i).and_then(|x| x.parse().ok()).unwrap_or(0);
        out.push(Proc {
            pid,
            ppid: num(1),
            pgid: num(2),
            comm: stat[open + 1..close].to_string(),
        });
    }
    out
}

/// `root`'s descendants (not itself), found through parent links.
pub fn descendants(root: u32) -> Vec<Proc> {
    let procs = all();
    let mut out: Vec<Proc> = vec![];
    let mut frontier = vec![root as i32];
    while let Some(p) = frontier.pop() {
        for c in procs.iter().filter(|c| c.ppid == p) {
            frontier.push(c.pid);
            out.push(c.clone());
        }
    }
    out
}

/// A process's command line, its arguments joined by spaces (empty once
/// it is gone).
pub fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw).replace('\0', " ")
}

/// Processes still alive in any of `groups`.
/// The main Chromium processes under `root` (children of its chromedrivers).
pub fn browsers_under(root: u32) -> Vec<Proc> {
    let all = descendants(root);
    let drivers: Vec<i32> = all
        .iter()
        .filter(|p| p.comm == "chromedriver")
        .map(|p| p.pid)
        .collect();
    all.into_iter()
        .filter(|p| p.comm.starts_with("chromium") && drivers.contains(&p.ppid))
        .collect()
}

pub fn alive_in(groups: &[i32]) -> Vec<Proc> {
    all()
        .into_iter()
        .filter(|p| groups.contains(&p.pgid))
        .collect()
}

/// Waits until no process is left in `groups`; the survivors on time-out.
pub fn wait_gone(groups: &[i32], within: Duration) -> Result<(), Vec<Proc>> {
    let gone = crate::support::poll("the groups to end")
        .within(within)
        .every(Duration::from_millis(50))
        .try_value(|| alive_in(groups).is_empty().then_some(()));
    match gone {
        Some(()) => Ok(()),
        None => Err(alive_in(groups)),
    }
}

/// Sends SIGKILL.
pub fn kill(pid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The addresses `pid` listens on (TCP, v4 and v6), as /proc shows them.
pub fn listening(pid: i32) -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().to_string();
            l.strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .map(String::from)
        })
        .collect();
    let mut out = vec![];
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            // f[1] local address, f[3] state (0A = LISTEN), f[9] inode.
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                out.push(f[1].to_string());
            }
        }
    }
    out
}

/// Whether a /proc/net/tcp{,6} local address is a loopback one.
pub fn is_loopback(addr: &str) -> bool {
    let host = addr.split(':').next().unwrap_or("");
    // 127.x.x.x is stored little-endian: its last byte is 7F; ::1 likewise.
    (host.len() == 8 && host.ends_with("7F")) || host == "00000000000000000000000001000000"
}

/// SIGKILLs einvreg (only it: the guard must take its children down) and
/// waits until nothing of their process groups is left; the survivors if any.
pub fn sigkill_alone(child: &mut std::process::Child) -> Result<(), Vec<Proc>> {
    // A child einvreg has just forked (a `--version` probe, a spawn before
    // its setpgid) is still in the test's own group: that group is not one
    // einvreg must take down, and waiting for it would wait for the test.
    let own = all()
        .into_iter()
        .find(|p| p.pid as u32 == std::process::id())
        .map(|p| p.pgid);
    let groups: Vec<i32> = descendants(child.id())
        .iter()
        .map(|p| p.pgid)
        .filter(|g| Some(*g) != own)
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    wait_gone(&groups, Duration::from_secs(10))
}
