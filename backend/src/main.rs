fn main() -> std::process::ExitCode {
    wahub::cli::main()
}
