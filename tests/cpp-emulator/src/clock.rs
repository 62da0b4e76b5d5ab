//! The virtual clock every timed behaviour reads, so tests can move days ahead without sleeping.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// Virtual time = anchor + real time elapsed since the anchor × scale (+ manual advances).
#[derive(Debug)]
pub(crate) struct VirtualClock {
    inner: Mutex<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    virtual_at: OffsetDateTime,
    scale: f64,
}

impl Anchor {
    fn now(&self) -> OffsetDateTime {
        let elapsed = self.real.elapsed().as_secs_f64() * self.scale;
        // Scale is finite and non-negative (checked in set_scale), so this cannot panic.
        self.virtual_at + Duration::from_secs_f64(elapsed)
    }
}

impl VirtualClock {
    /// A frozen clock starting at the real current time.
    pub(crate) fn new(scale: f64) -> Self {
        Self {
            inner: Mutex::new(Anchor {
                real: Instant::now(),
                virtual_at: OffsetDateTime::now_utc(),
                scale: sanitize(scale),
            }),
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.lock().now()
    }

    pub(crate) fn scale(&self) -> f64 {
        self.lock().scale
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut anchor = self.lock();
        anchor.virtual_at += by;
    }

    /// Re-anchors at the current virtual time so changing the scale never jumps the clock.
    pub(crate) fn set_scale(&self, scale: f64) {
        let mut anchor = self.lock();
        *anchor = Anchor {
            real: Instant::now(),
            virtual_at: anchor.now(),
            scale: sanitize(scale),
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Negative, NaN or infinite scales would make time run backwards or panic: treat them as frozen.
fn sanitize(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_by_default_and_advances_on_demand() {
        let clock = VirtualClock::new(0.0);
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(clock.now() - start, time::Duration::days(1));
    }

    #[test]
    fn bad_scales_freeze_the_clock() {
        let clock = VirtualClock::new(f64::NAN);
        assert!(clock.scale().abs() < f64::EPSILON);
        clock.set_scale(-5.0);
        assert!(clock.scale().abs() < f64::EPSILON);
        clock.set_scale(2.0);
        assert!((clock.scale() - 2.0).abs() < f64::EPSILON);
    }
}
