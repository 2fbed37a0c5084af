//! Compiles the exposition-format protobuf schema with protox, so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    // The compiler version goes into every daemon's `*_build_info{goversion=...}` label.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Ok(out) = std::process::Command::new(rustc).arg("--version").output() {
        let version = String::from_utf8_lossy(&out.stdout);
        if let Some(v) = version.split_whitespace().nth(1) {
            println!("cargo:rustc-env=PM_RUSTC_VERSION=rust{v}");
        }
    }
    let descriptors = protox::compile(["io/prometheus/client/metrics.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
