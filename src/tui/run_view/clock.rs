//! The run clock as the playground estimates it between events.

use crate::clock::Speed;
use std::time::{Duration, Instant};

/// Estimates the run's clock between events so countdowns drain smoothly at the run speed:
/// the newest event's `t_ms` plus the wall time since it, times the speed.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    anchor_t: u64,
    anchor_wall: Instant,
    speed: Speed,
    running: bool,
}

impl RunClock {
    pub fn new(speed: Speed, now: Instant) -> Self {
        RunClock {
            anchor_t: 0,
            anchor_wall: now,
            speed,
            running: false,
        }
    }

    pub fn start(&mut self, now: Instant) {
        self.anchor_t = 0;
        self.anchor_wall = now;
        self.running = true;
    }

    pub fn stop(&mut self, now: Instant) {
        self.anchor_t = self.now_ms(now);
        self.anchor_wall = now;
        self.running = false;
    }

    /// An event arrived at run time `t`: re-anchor (the estimate runs ahead while the run's
    /// virtual clock stands still during a loopback request).
    pub fn observe(&mut self, t: u64, now: Instant) {
        self.anchor_t = t;
        self.anchor_wall = now;
    }

    pub fn set_speed(&mut self, speed: Speed, now: Instant) {
        self.anchor_t = self.now_ms(now);
        self.anchor_wall = now;
        self.speed = speed;
    }

    pub fn now_ms(&self, now: Instant) -> u64 {
        if !self.running {
            return self.anchor_t;
        }
        let wall = now.saturating_duration_since(self.anchor_wall);
        let run = match self.speed {
            Speed::Max => Duration::ZERO,
            Speed::Times(x) => wall.mul_f64(x),
        };
        let run_ms = u64::try_from(run.as_millis()).unwrap_or(u64::MAX);
        self.anchor_t.saturating_add(run_ms)
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Milliseconds left of a wait, on the estimated run clock.
    pub fn remaining_ms(&self, w: &super::WaitView, now: Instant) -> u64 {
        if w.finished {
            return 0;
        }
        w.end_t().saturating_sub(self.now_ms(now))
    }
}
