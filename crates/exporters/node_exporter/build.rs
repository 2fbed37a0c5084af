//! Link options that keep the node_exporter binary's resident memory small.
//!
//! Most of an idle exporter's RSS is mapped code, not heap: the kernel maps every page-cached
//! neighbour of a faulted text page (fault-around, 64 KiB or a whole large folio), so a few
//! thousand functions scattered over 7 MiB of text keep most of it resident. Two link options
//! for this binary only:
//!
//! - `link/hot-functions.txt` (made by `scripts/node_exporter_hot_functions.sh` from a run under
//!   callgrind) lists the functions startup and scrapes execute; lld places them first, so they
//!   share ~2 MiB of text instead of touching ~6 MiB. A stale list is harmless: names that no
//!   longer exist are skipped and new functions land after the listed ones.
//! - A position-dependent executable (`-no-pie`) needs no load-time relocations: the 600 KiB
//!   relocation table is never read and the 450 KiB of relocated read-only data stay clean,
//!   shared page cache of which only touched pages count, instead of private copies. Go's
//!   upstream binary is not PIE either. When the workspace links glibc statically
//!   (`-C target-feature=+crt-static`), rustc asks for a static PIE; `-static` keeps it static
//!   while `-no-pie` drops the PIE part.
//!
//! Both rely on lld, rustc's default linker for x86_64-unknown-linux-gnu since Rust 1.90 (the
//! workspace's minimum); other targets link as before.

use std::env;

fn main() {
    let list = "link/hot-functions.txt";
    println!("cargo:rerun-if-changed={list}");
    if env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu") {
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let bin = "cargo:rustc-link-arg-bin=node_exporter";
    println!("{bin}=-Wl,--symbol-ordering-file={dir}/{list}");
    println!("{bin}=-Wl,--no-warn-symbol-ordering");
    let crt_static = env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if crt_static {
        println!("{bin}=-static");
    }
    println!("{bin}=-no-pie");
}
