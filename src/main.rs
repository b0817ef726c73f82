fn main() {
    std::process::exit(einvreg::cli::main());
}
