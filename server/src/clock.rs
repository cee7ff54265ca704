//! "Now", as the state gives it to every handler and controller: the wall
//! clock in production, a hand-moved one in tests (so a test sets the time
//! a query is evaluated at instead of reading the machine's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the current time comes from (seconds since the Unix epoch).
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The machine's wall clock.
    #[default]
    System,
    /// A time that moves only when a test moves it ([`ManualTime`]).
    Manual(ManualTime),
}

impl Clock {
    /// A clock standing at `now_s` until moved through the returned handle.
    pub fn manual(now_s: f64) -> (Clock, ManualTime) {
        let time = ManualTime(Arc::new(AtomicU64::new(now_s.to_bits())));
        (Clock::Manual(time.clone()), time)
    }

    /// Seconds since the Unix epoch, with sub-second precision.
    pub fn now_s(&self) -> f64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            Clock::Manual(time) => time.get(),
        }
    }
}

/// The handle moving a [`Clock::manual`].
#[derive(Clone, Debug)]
pub struct ManualTime(Arc<AtomicU64>);

impl ManualTime {
    /// The time the clock shows.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::SeqCst))
    }

    /// Sets the clock to `now_s`.
    pub fn set(&self, now_s: f64) {
        self.0.store(now_s.to_bits(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: f64) {
        self.set(self.get() + seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_moved() {
        let (clock, time) = Clock::manual(1_700_000_000.5);
        assert_eq!(clock.now_s(), 1_700_000_000.5);
        time.advance(30.0);
        assert_eq!(clock.clone().now_s(), 1_700_000_030.5);
        time.set(5.0);
        assert_eq!(clock.now_s(), 5.0);
    }

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = Clock::System.now_s();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(before.as_secs_f64() <= now && now <= after.as_secs_f64());
    }
}
