//! Simulated time. Microsoft takes days; the benchmark moves the emulator's clock instead of waiting,
//! and the clients' clock with it, so tokens expire as they would.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use shared::clock::{Clock, Sleep};
use tokio::sync::oneshot;

/// The clients' clock: real time plus every simulated advance. Token expiry follows the emulator's
/// clock; retry waits (`Retry-After`, backoff) are real, so they show in wall time.
#[derive(Debug, Default)]
pub struct BenchClock {
    advanced: Mutex<Duration>,
}

impl BenchClock {
    pub fn advance(&self, by: Duration) {
        *self.advanced.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for BenchClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + *self.advanced.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

type Advance = Box<dyn Fn(Duration) + Send + Sync>;

/// A discrete-event clock shared by concurrent executions: when every execution is waiting (a Wait
/// state, a Retry interval), time jumps to the earliest wake-up and those executions resume.
pub struct VirtualTime {
    advance: Advance,
    state: Mutex<Schedule>,
}

#[derive(Default)]
struct Schedule {
    now: u64,
    /// Executions that are running (not waiting).
    active: usize,
    next_id: u64,
    sleepers: BinaryHeap<Reverse<(u64, u64)>>,
    wakers: HashMap<u64, oneshot::Sender<()>>,
}

impl VirtualTime {
    /// `advance` moves the emulator's and the clients' clocks.
    pub fn new(advance: impl Fn(Duration) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            advance: Box::new(advance),
            state: Mutex::new(Schedule::default()),
        })
    }

    /// Simulated seconds since the start.
    pub fn now(&self) -> u64 {
        self.lock().now
    }

    /// Registers an execution; register all of them before any starts, so none moves time alone.
    pub fn join(self: &Arc<Self>) -> Participant {
        self.lock().active += 1;
        Participant { time: self.clone() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// With nobody running, jumps to the earliest wake-up and wakes everyone due then.
    fn wake_next(&self, schedule: &mut Schedule) {
        let Some(Reverse((at, _))) = schedule.sleepers.peek().copied() else {
            return;
        };
        if at > schedule.now {
            (self.advance)(Duration::from_secs(at - schedule.now));
            schedule.now = at;
        }
        while let Some(Reverse((due, id))) = schedule.sleepers.peek().copied() {
            if due > at {
                break;
            }
            schedule.sleepers.pop();
            if let Some(waker) = schedule.wakers.remove(&id) {
                schedule.active += 1;
                // A dropped receiver is an execution that went away; nothing to wake.
                let _ = waker.send(());
            }
        }
    }
}

/// One execution's handle on the shared clock; dropping it says the execution ended.
pub struct Participant {
    time: Arc<VirtualTime>,
}

impl Participant {
    /// Waits `seconds` of simulated time.
    pub async fn sleep(&self, seconds: u64) {
        let woken = {
            let mut schedule = self.time.lock();
            schedule.next_id += 1;
            let id = schedule.next_id;
            let at = schedule.now + seconds;
            let (tx, rx) = oneshot::channel();
            schedule.sleepers.push(Reverse((at, id)));
            schedule.wakers.insert(id, tx);
            schedule.active -= 1;
            if schedule.active == 0 {
                self.time.wake_next(&mut schedule);
            }
            rx
        };
        // An error means the schedule was dropped, which only happens at shutdown.
        let _ = woken.await;
    }

    pub fn now(&self) -> u64 {
        self.time.now()
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        let mut schedule = self.time.lock();
        schedule.active -= 1;
        if schedule.active == 0 {
            self.time.wake_next(&mut schedule);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[tokio::test]
    async fn time_jumps_only_when_everyone_waits() {
        let moved = Arc::new(AtomicU64::new(0));
        let seen = moved.clone();
        let time = VirtualTime::new(move |d| {
            seen.fetch_add(d.as_secs(), Ordering::SeqCst);
        });
        let (a, b) = (time.join(), time.join());
        let first = tokio::spawn(async move {
            a.sleep(300).await;
            let at = a.now();
            a.sleep(100).await;
            (at, a.now())
        });
        let second = tokio::spawn(async move {
            b.sleep(350).await;
            b.now()
        });
        assert_eq!(second.await.unwrap(), 350);
        assert_eq!(first.await.unwrap(), (300, 400));
        assert_eq!(moved.load(Ordering::SeqCst), 400);
    }
}
