//! glibc malloc tuning for a small, long-running daemon.
//!
//! Measured on the release binary (docs/benchmarks.md): with glibc's defaults every thread
//! that allocates may get its own arena, and the free memory of each arena stays resident,
//! so after a burst of concurrent scrapes the heap held ~9 MiB although the live data is well
//! under 2 MiB. One arena (the threads' tcaches keep the common paths off its lock) and an
//! explicit trim once scrapes stop bring that back to the live size.
//!
//! On other C libraries both functions do nothing: their allocators have their own policies.

// mallopt(3) and malloc_trim(3) have no safe wrapper, so this module holds the two calls.
#![allow(unsafe_code)]

/// Makes every thread share the main arena. Call before the runtime starts its threads:
/// glibc ignores the limit for arenas that already exist.
pub fn use_one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters and is thread-safe; the values are
        // a documented parameter and a positive count.
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        if ok != 1 {
            tracing::warn!("mallopt(M_ARENA_MAX) refused; the heap may keep more memory");
        }
    }
}

/// Returns the free pages of the heap to the kernel. It walks the free lists under the arena
/// lock (well under a millisecond for this heap), so it runs on the blocking pool.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes the arena locks itself and only releases pages that are
        // free; any thread may call it at any time.
        unsafe { libc::malloc_trim(0) };
    }
}
