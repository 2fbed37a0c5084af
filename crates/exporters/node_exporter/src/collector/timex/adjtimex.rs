//! The one system call the `timex` collector needs. Neither rustix nor nix wraps
//! adjtimex(2), so this module holds the single `unsafe` call behind a safe function.

#![allow(unsafe_code)]

use std::io;

/// The kernel clock's state as adjtimex(2) reports it, widened to `i64`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Timex {
    /// The call's return value: the clock state (`TIME_OK` … `TIME_ERROR`).
    pub state: i32,
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub status: i64,
    pub constant: i64,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i64,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i64,
}

/// Reads the kernel clock's state without changing it (`modes` is 0).
// `c_long` is `i64` here but `i32` on 32-bit targets, hence the conversions.
#[allow(clippy::useless_conversion)]
pub fn read() -> io::Result<Timex> {
    // SAFETY: `libc::timex` is a plain C struct of integers, for which all-zero bytes are a
    // valid value; zero `modes` makes adjtimex(2) a read-only query that only writes into
    // the struct, which lives on this stack frame for the whole call.
    let (state, tx) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let state = libc::adjtimex(&mut tx);
        (state, tx)
    };
    if state == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(Timex {
        state,
        offset: tx.offset.into(),
        freq: tx.freq.into(),
        maxerror: tx.maxerror.into(),
        esterror: tx.esterror.into(),
        status: tx.status.into(),
        constant: tx.constant.into(),
        tick: tx.tick.into(),
        ppsfreq: tx.ppsfreq.into(),
        jitter: tx.jitter.into(),
        shift: tx.shift.into(),
        stabil: tx.stabil.into(),
        jitcnt: tx.jitcnt.into(),
        calcnt: tx.calcnt.into(),
        errcnt: tx.errcnt.into(),
        stbcnt: tx.stbcnt.into(),
        tai: tx.tai.into(),
    })
}
