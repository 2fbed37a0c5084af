//! `timex`: the kernel clock's NTP discipline state from adjtimex(2).

mod adjtimex;

use pm_common::metrics::ConstKind::{self, Counter, Gauge};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, single};
use adjtimex::Timex;

struct TimexCollector;

pub fn build(_: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(TimexCollector))
}

/// adjtimex(2)'s `TIME_ERROR`: the clock is not synchronised.
const TIME_ERROR: i32 = 5;
/// `STA_NANO`: offset and jitter are in nanoseconds instead of microseconds.
const STA_NANO: i64 = 0x2000;
const NANOSECONDS: f64 = 1e9;
const MICROSECONDS: f64 = 1e6;
/// Frequencies are in parts per million with a 16-bit binary fraction.
const PPM16FRAC: f64 = 1e6 * 65536.0;

/// Every sample: metric suffix, kind, help text and value in upstream's units.
fn samples(t: &Timex) -> [(&'static str, ConstKind, &'static str, f64); 17] {
    let divisor = if t.status & STA_NANO != 0 {
        NANOSECONDS
    } else {
        MICROSECONDS
    };
    let synced = if t.state == TIME_ERROR { 0.0 } else { 1.0 };
    [
        (
            "sync_status",
            Gauge,
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
            synced,
        ),
        (
            "offset_seconds",
            Gauge,
            "Time offset in between local system and reference clock.",
            t.offset as f64 / divisor,
        ),
        (
            "frequency_adjustment_ratio",
            Gauge,
            "Local clock frequency adjustment.",
            1.0 + t.freq as f64 / PPM16FRAC,
        ),
        (
            "maxerror_seconds",
            Gauge,
            "Maximum error in seconds.",
            t.maxerror as f64 / MICROSECONDS,
        ),
        (
            "estimated_error_seconds",
            Gauge,
            "Estimated error in seconds.",
            t.esterror as f64 / MICROSECONDS,
        ),
        (
            "status",
            Gauge,
            "Value of the status array bits.",
            t.status as f64,
        ),
        (
            "loop_time_constant",
            Gauge,
            "Phase-locked loop time constant.",
            t.constant as f64,
        ),
        (
            "tick_seconds",
            Gauge,
            "Seconds between clock ticks.",
            t.tick as f64 / MICROSECONDS,
        ),
        (
            "pps_frequency_hertz",
            Gauge,
            "Pulse per second frequency.",
            t.ppsfreq as f64 / PPM16FRAC,
        ),
        (
            "pps_jitter_seconds",
            Gauge,
            "Pulse per second jitter.",
            t.jitter as f64 / divisor,
        ),
        (
            "pps_shift_seconds",
            Gauge,
            "Pulse per second interval duration.",
            t.shift as f64,
        ),
        (
            "pps_stability_hertz",
            Gauge,
            "Pulse per second stability, average of recent frequency changes.",
            t.stabil as f64 / PPM16FRAC,
        ),
        (
            "pps_jitter_total",
            Counter,
            "Pulse per second count of jitter limit exceeded events.",
            t.jitcnt as f64,
        ),
        (
            "pps_calibration_total",
            Counter,
            "Pulse per second count of calibration intervals.",
            t.calcnt as f64,
        ),
        (
            "pps_error_total",
            Counter,
            "Pulse per second count of calibration errors.",
            t.errcnt as f64,
        ),
        (
            "pps_stability_exceeded_total",
            Counter,
            "Pulse per second count of stability limit exceeded events.",
            t.stbcnt as f64,
        ),
        (
            "tai_offset_seconds",
            Gauge,
            "International Atomic Time (TAI) offset.",
            t.tai as f64,
        ),
    ]
}

impl Collector for TimexCollector {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let t = adjtimex::read().map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                CollectorError::NoData(format!("not collecting timex metrics: {e}"))
            } else {
                CollectorError::io("adjtimex(2)", e)
            }
        })?;
        for (suffix, kind, help, value) in samples(&t) {
            single(out, kind, format!("node_timex_{suffix}"), help, value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(t: &Timex, suffix: &str) -> f64 {
        samples(t).iter().find(|s| s.0 == suffix).unwrap().3
    }

    #[test]
    fn offsets_follow_the_nanosecond_status_bit() {
        let micro = Timex {
            offset: 1500,
            jitter: 250,
            ..Timex::default()
        };
        assert_eq!(value(&micro, "offset_seconds"), 0.0015);
        assert_eq!(value(&micro, "pps_jitter_seconds"), 0.00025);
        let nano = Timex {
            status: STA_NANO,
            ..micro
        };
        assert_eq!(value(&nano, "offset_seconds"), 0.0000015);
        assert_eq!(value(&nano, "pps_jitter_seconds"), 0.00000025);
        // Errors and the tick are always microseconds.
        let t = Timex {
            status: STA_NANO,
            maxerror: 16_000,
            esterror: 500,
            tick: 10_000,
            ..Timex::default()
        };
        assert_eq!(value(&t, "maxerror_seconds"), 0.016);
        assert_eq!(value(&t, "estimated_error_seconds"), 0.0005);
        assert_eq!(value(&t, "tick_seconds"), 0.01);
    }

    #[test]
    fn frequencies_are_scaled_16_bit_ppm() {
        let t = Timex {
            freq: 65536 * 12,
            ppsfreq: -65536,
            stabil: 32768,
            ..Timex::default()
        };
        assert!((value(&t, "frequency_adjustment_ratio") - 1.000012).abs() < 1e-12);
        assert_eq!(value(&t, "pps_frequency_hertz"), -0.000001);
        assert_eq!(value(&t, "pps_stability_hertz"), 0.0000005);
    }

    #[test]
    fn sync_status_is_zero_only_on_time_error() {
        let state = |state| {
            value(
                &Timex {
                    state,
                    ..Timex::default()
                },
                "sync_status",
            )
        };
        assert_eq!(state(TIME_ERROR), 0.0);
        assert_eq!(state(0), 1.0);
        assert_eq!(state(1), 1.0);
    }

    #[test]
    fn reads_this_machines_clock() {
        let t = adjtimex::read().expect("adjtimex with modes 0 needs no privilege");
        assert!(t.tick > 0, "{t:?}");
        assert_eq!(samples(&t).len(), 17);
    }
}
