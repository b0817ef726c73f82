fn main() {
    // A full disk or a file-size limit must fail the write (and be
    // reported), not kill einvreg between a submit and its record.
    // SAFETY: called first, before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN)
    };
    std::process::exit(einvreg::cli::main());
}
