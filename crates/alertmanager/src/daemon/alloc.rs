//! glibc malloc tuning for the daemon. Ingesting 100,000 alerts grows the heap by ~190 MiB
//! in small steps; with glibc's default top pad (128 KiB) each tokio worker's arena is
//! extended by an `mprotect` call every few hundred alerts, and those calls (which also
//! serialise the other threads' page faults) were ~9% of ingest CPU in a profile. A larger
//! pad extends arenas in a few big steps; pages are still only backed when first touched, so
//! the resident size does not change.
#![allow(unsafe_code)]

/// How far an arena is extended past each request that does not fit.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD: libc::c_int = 64 << 20;

/// Applies the tuning; a no-op where the allocator is not glibc's.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; glibc takes its own locks, so it is
    // sound to call while other threads allocate. A refused value leaves the default.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
    }
}
