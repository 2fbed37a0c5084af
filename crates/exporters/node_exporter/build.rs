//! Link options that keep the node_exporter binary's resident memory small.
//!
//! Most of an idle exporter's RSS is mapped code, not heap: the kernel maps every page-cached
//! neighbour of a faulted text page (fault-around, 64 KiB or a whole large folio), so a few
//! thousand functions scattered over 7 MiB of text keep most of it resident. Options for this
//! binary only (test binaries and the other daemons link as before):
//!
//! - Hot code first. `scripts/node_exporter_hot_functions.sh` records the functions startup and
//!   scrapes execute (callgrind) in `link/hot-functions.txt`, exact symbol names hottest first,
//!   for lld's `--symbol-ordering-file`, and in `link/hot-text.ld`, the same names as section
//!   patterns with the per-build hashes wildcarded, for a linker script that gathers them in an
//!   output section `.text.hot` before `.text`. The exact names go stale as soon as a crate the
//!   binary links changes its dependencies (every Rust symbol carries a hash of its crate's
//!   Cargo metadata): the patterns keep the hot code together in that case, the exact list
//!   only orders it within `.text.hot` while it is current. `tests/it/link_layout.rs` fails when the
//!   patterns stop matching the binary's functions.
//! - A position-dependent executable (`-no-pie`) needs no load-time relocations: the 600 KiB
//!   relocation table is never read and the 450 KiB of relocated read-only data stay clean,
//!   shared page cache of which only touched pages count, instead of private copies.
//! - glibc linked statically, as Go links upstream's binary: the shared libc, libm and ld.so
//!   keep ~1.9 MiB resident, the parts of a static glibc this binary uses ~0.4 MiB. rustc links
//!   glibc statically only under `-C target-feature=+crt-static`, a flag for the whole build
//!   that breaks proc-macros unless `--target` is given, so instead this script keeps rustc's
//!   link line and points its `-lgcc_s -lc -lm …` at the static archives: a directory put first
//!   in the library search path holds `libc.so` and friends as one-line linker scripts naming
//!   `libc.a` etc. (`libgcc_s` becomes `libgcc_eh.a`, the static unwinder), and `-static` makes
//!   the compiler driver link a static executable. The binary resolves names only for
//!   `--web.listen-address`, through the `files` and `dns` services glibc ≥ 2.34 has built in.
//!   Where the driver cannot find the static archives (e.g. no glibc-static package) it warns
//!   and links dynamically.
//!
//! All of it relies on lld, rustc's default linker for x86_64-unknown-linux-gnu since Rust 1.90
//! (the workspace's minimum); other targets link as before.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The libraries rustc's link line asks for when glibc is linked dynamically, with the static
/// archive each one stands for.
const STATIC_LIBS: [(&str, &str); 7] = [
    ("gcc_s", "libgcc_eh.a"),
    ("util", "libutil.a"),
    ("rt", "librt.a"),
    ("pthread", "libpthread.a"),
    ("m", "libm.a"),
    ("dl", "libdl.a"),
    ("c", "libc.a"),
];

fn main() {
    let list = "link/hot-functions.txt";
    let script = "link/hot-text.ld";
    println!("cargo:rerun-if-changed={list}");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu") {
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let bin = "cargo:rustc-link-arg-bin=node_exporter";
    println!("{bin}=-Wl,--symbol-ordering-file={dir}/{list}");
    println!("{bin}=-Wl,--no-warn-symbol-ordering");
    println!("{bin}=-Wl,-T,{dir}/{script}");

    let crt_static = env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if crt_static {
        // rustc already names the static archives; it asks for a static PIE, which `-no-pie`
        // below turns into a plain static executable.
        println!("{bin}=-static");
    } else {
        let driver = env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_owned());
        match missing_archive(&driver) {
            None => {
                let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
                let libs = out.join("static-glibc");
                write_redirects(&libs);
                println!("{bin}=-L{}", libs.display());
                println!("{bin}=-static");
            }
            Some(archive) => println!(
                "cargo:warning=node_exporter links glibc dynamically: `{driver} \
                 -print-file-name={archive}` finds no such archive (install glibc's static \
                 libraries for a binary with ~1.5 MiB less resident memory)"
            ),
        }
    }
    println!("{bin}=-no-pie");
}

/// The first static archive the compiler driver cannot locate, if any; the driver answers a
/// bare file name when it has none.
fn missing_archive(driver: &str) -> Option<&'static str> {
    STATIC_LIBS
        .iter()
        .map(|&(_, archive)| archive)
        .find(|archive| {
            let found = Command::new(driver)
                .arg(format!("-print-file-name={archive}"))
                .output()
                .ok()
                .filter(|out| out.status.success())
                .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            !found.is_some_and(|path| path.is_absolute() && path.is_file())
        })
}

/// `lib<name>.so` linker scripts naming the static archives: with rustc's `-Bdynamic` in
/// force the linker takes the first `lib<name>.so` or `lib<name>.a` along the search path, and
/// this directory comes before the system's.
fn write_redirects(libs: &Path) {
    fs::create_dir_all(libs).expect("create the directory of library redirects in OUT_DIR");
    for (name, archive) in STATIC_LIBS {
        fs::write(
            libs.join(format!("lib{name}.so")),
            format!("INPUT({archive})\n"),
        )
        .expect("write a library redirect in OUT_DIR");
    }
}
