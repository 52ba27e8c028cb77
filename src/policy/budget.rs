//! The retry budget (`[budget]`, DESIGN §15): PURE, time passed in. Retries allowed as a
//! share of calls plus a floor per second, as tower's `TpsBudget` and gRPC's retry
//! throttling do it: every call deposits `retry_ratio` of a retry, every retry withdraws one
//! whole retry, and a retry is allowed only while the balance holds one. Deposits and
//! withdrawals count for [`TTL_SECS`] seconds (in one-second slots: one made in second `g`
//! counts until second `g + 10` begins), on top of a reserve that never expires:
//! `min_retries_per_sec × TTL_SECS` retries. So over any 10 s, retries ≤ ratio × calls +
//! floor × 10.
//!
//! Arithmetic in integers (a retry is [`UNIT`] units), so a ratio of 0.3 is exactly 0.3,
//! not tower's `1 / (1 / 0.3) as isize` = 1/3.

use std::time::Duration;

/// How long a deposit or a withdrawal counts (tower's default `ttl`).
pub const TTL_SECS: u64 = 10;

/// One retry, in the budget's units (a ratio is kept to six decimals).
pub const UNIT: i64 = 1_000_000;

/// A `[budget]` table, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetPolicy {
    /// Retries each call adds to the budget (0..=1000).
    pub retry_ratio: f64,
    /// Retries a second allowed on top, whatever the calls (the reserve).
    pub min_retries_per_sec: u32,
}

impl BudgetPolicy {
    /// One line for the plan.
    pub fn describe(&self) -> String {
        format!(
            "retries at most {} of calls + {} a second (over the last {TTL_SECS} s), shared by every call",
            ratio_text(self.retry_ratio),
            self.min_retries_per_sec
        )
    }
}

fn ratio_text(r: f64) -> String {
    let p = r * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p} %")
    }
}

/// What the budget said to a retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Withdrawal {
    /// Allowed; the retries left after it.
    Allowed { left: f64 },
    /// Denied; the retries the budget held (less than one).
    Denied { tokens: f64 },
}

/// The budget's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    deposit: i64,
    reserve: i64,
    /// Net units per second of the last [`TTL_SECS`] seconds, indexed by second % TTL.
    slots: [i64; TTL_SECS as usize],
    /// The second the newest slot is for.
    second: u64,
}

impl Budget {
    /// Full: the reserve, no deposit yet.
    pub fn new(p: &BudgetPolicy) -> Budget {
        let deposit = (p.retry_ratio.clamp(0.0, 1000.0) * UNIT as f64).round() as i64;
        let reserve = i64::from(p.min_retries_per_sec)
            .saturating_mul(TTL_SECS as i64)
            .saturating_mul(UNIT);
        Budget {
            deposit,
            reserve,
            slots: [0; TTL_SECS as usize],
            second: 0,
        }
    }

    /// Forgets the seconds that fell out of the window by `now` (time never goes back: an
    /// earlier `now` counts as the newest second).
    fn roll(&mut self, now: Duration) {
        let sec = now.as_secs();
        if sec <= self.second {
            return;
        }
        let gone = (sec - self.second).min(TTL_SECS);
        for i in 1..=gone {
            self.slots[((self.second + i) % TTL_SECS) as usize] = 0;
        }
        self.second = sec;
    }

    fn slot(&mut self) -> &mut i64 {
        &mut self.slots[(self.second % TTL_SECS) as usize]
    }

    fn balance(&self) -> i64 {
        self.slots
            .iter()
            .fold(self.reserve, |sum, s| sum.saturating_add(*s))
    }

    /// A call started: `retry_ratio` of a retry more.
    pub fn deposit(&mut self, now: Duration) {
        self.roll(now);
        let d = self.deposit;
        let slot = self.slot();
        *slot = slot.saturating_add(d);
    }

    /// A retry asks to go: one whole retry out, if the balance holds one.
    pub fn withdraw(&mut self, now: Duration) -> Withdrawal {
        self.roll(now);
        if self.balance() < UNIT {
            return Withdrawal::Denied {
                tokens: self.tokens(now),
            };
        }
        let slot = self.slot();
        *slot = slot.saturating_sub(UNIT);
        Withdrawal::Allowed {
            left: self.tokens(now),
        }
    }

    /// The retries the balance holds at `now` (never below zero: withdrawals outlive the
    /// deposits that paid for them by up to a second).
    pub fn tokens(&mut self, now: Duration) -> f64 {
        self.roll(now);
        self.balance().max(0) as f64 / UNIT as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(retry_ratio: f64, min_retries_per_sec: u32) -> Budget {
        Budget::new(&BudgetPolicy {
            retry_ratio,
            min_retries_per_sec,
        })
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn allowed(w: Withdrawal) -> bool {
        matches!(w, Withdrawal::Allowed { .. })
    }

    #[test]
    fn empty_without_calls_or_floor() {
        let mut b = budget(0.2, 0);
        assert_eq!(b.withdraw(ms(0)), Withdrawal::Denied { tokens: 0.0 });
    }

    #[test]
    fn five_calls_at_twenty_percent_pay_for_one_retry() {
        let mut b = budget(0.2, 0);
        for k in 1..=4 {
            b.deposit(ms(0));
            assert!((b.tokens(ms(0)) - 0.2 * f64::from(k)).abs() < 1e-12);
            assert!(!allowed(b.withdraw(ms(0))), "after {k} calls");
        }
        b.deposit(ms(0));
        assert_eq!(b.withdraw(ms(0)), Withdrawal::Allowed { left: 0.0 });
        assert!(!allowed(b.withdraw(ms(0))));
    }

    #[test]
    fn a_thousand_calls_allow_exactly_ratio_times_as_many_retries() {
        for (ratio, retries) in [(0.2, 200), (0.3, 300), (0.01, 10), (1.0, 1000), (2.5, 2500)] {
            let mut b = budget(ratio, 0);
            for _ in 0..1000 {
                b.deposit(ms(0));
            }
            let mut n = 0;
            while allowed(b.withdraw(ms(0))) {
                n += 1;
            }
            assert_eq!(n, retries, "ratio {ratio}");
        }
    }

    #[test]
    fn a_ratio_of_zero_leaves_only_the_floor() {
        let mut b = budget(0.0, 2);
        for _ in 0..100 {
            b.deposit(ms(0));
        }
        // 2 a second × 10 s = 20 retries in reserve.
        assert_eq!(b.tokens(ms(0)), 20.0);
        let n = (0..100).filter(|_| allowed(b.withdraw(ms(0)))).count();
        assert_eq!(n, 20);
        assert_eq!(b.withdraw(ms(0)), Withdrawal::Denied { tokens: 0.0 });
    }

    #[test]
    fn the_floor_comes_back_as_withdrawals_expire_after_ten_seconds() {
        let mut b = budget(0.0, 1);
        let n = (0..20).filter(|_| allowed(b.withdraw(ms(500)))).count();
        assert_eq!(n, 10);
        // Made in second 0: still counted at 9.999 s, gone at 10 s.
        assert!(!allowed(b.withdraw(ms(9_999))));
        assert_eq!(b.tokens(ms(10_000)), 10.0);
        assert!(allowed(b.withdraw(ms(10_000))));
    }

    #[test]
    fn deposits_expire_after_ten_seconds_in_one_second_slots() {
        let mut b = budget(0.5, 0);
        b.deposit(ms(900)); // second 0
        b.deposit(ms(1_100)); // second 1
        assert_eq!(b.tokens(ms(9_999)), 1.0);
        // Second 0's deposit is gone at 10 s; second 1's stays until 11 s.
        assert_eq!(b.tokens(ms(10_000)), 0.5);
        assert!(!allowed(b.withdraw(ms(10_000))));
        b.deposit(ms(10_500));
        assert_eq!(b.withdraw(ms(10_500)), Withdrawal::Allowed { left: 0.0 });
        // A long silence forgets everything, the reserve aside.
        assert_eq!(b.tokens(ms(1_000_000)), 0.0);
    }

    #[test]
    fn a_withdrawal_that_outlives_its_deposits_shows_as_zero_not_negative() {
        let mut b = budget(1.0, 0);
        b.deposit(ms(0));
        // Paid in second 0, withdrawn in second 5: from 10 s to 15 s only the debt is left.
        assert!(allowed(b.withdraw(ms(5_000))));
        b.deposit(ms(10_000));
        assert_eq!(b.tokens(ms(10_000)), 0.0);
        assert!(
            !allowed(b.withdraw(ms(10_000))),
            "the debt is still counted"
        );
        assert_eq!(b.tokens(ms(15_000)), 1.0);
    }

    #[test]
    fn time_going_back_counts_as_now() {
        let mut b = budget(1.0, 0);
        b.deposit(ms(5_000));
        b.deposit(ms(1_000));
        assert_eq!(b.tokens(ms(5_000)), 2.0);
    }

    #[test]
    fn a_huge_floor_and_ratio_do_not_overflow() {
        let mut b = budget(1000.0, u32::MAX);
        for _ in 0..1000 {
            b.deposit(ms(0));
        }
        assert!(allowed(b.withdraw(ms(0))));
        assert!(b.tokens(ms(0)) > 4.0e10);
    }

    #[test]
    fn the_plan_describes_it() {
        let p = BudgetPolicy {
            retry_ratio: 0.2,
            min_retries_per_sec: 10,
        };
        assert_eq!(
            p.describe(),
            "retries at most 20 % of calls + 10 a second (over the last 10 s), shared by every call"
        );
        assert_eq!(ratio_text(0.125), "12.5 %");
    }
}
