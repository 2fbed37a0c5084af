use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::*;

/// A collection that counts its runs and blocks each one until the test releases it.
#[derive(Clone)]
struct Gated {
    runs: Arc<AtomicUsize>,
    gate: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Gated {
    fn new() -> (Self, mpsc::Sender<()>) {
        let (release, gate) = mpsc::channel();
        let gated = Self {
            runs: Arc::default(),
            gate: Arc::new(Mutex::new(gate)),
        };
        (gated, release)
    }

    fn collect(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let this = self.clone();
        move || {
            let n = this.runs.fetch_add(1, Ordering::SeqCst) + 1;
            let gate = this.gate.lock().unwrap();
            gate.recv_timeout(Duration::from_secs(10)).unwrap();
            n
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

/// Polls `done` every 5 ms, at most 10 s.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not reached in 10 s");
}

fn spawn_get(
    coalescer: &Arc<Coalescer<u8, usize>>,
    gated: &Gated,
) -> tokio::task::JoinHandle<Option<usize>> {
    let (c, f) = (Arc::clone(coalescer), gated.collect());
    tokio::spawn(async move { c.get(1, f).await })
}

/// Every answer comes from a run that started after its request: the requests that arrive
/// while a run is going all share the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_share_the_next_run() {
    let coalescer = Arc::new(Coalescer::new(Duration::from_secs(60)));
    let (gated, release) = Gated::new();
    let first = spawn_get(&coalescer, &gated);
    until(|| gated.runs() == 1).await;
    let later: Vec<_> = (0..5).map(|_| spawn_get(&coalescer, &gated)).collect();
    until(|| {
        coalescer.lock().get(&1).is_some_and(|lane| {
            lane.next
                .as_ref()
                .is_some_and(|slot| slot.receiver_count() == 5)
        })
    })
    .await;
    assert_eq!(
        gated.runs(),
        1,
        "the waiters must not start a run of their own"
    );
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap(), Some(1));
    release.send(()).unwrap();
    for waiter in later {
        assert_eq!(waiter.await.unwrap(), Some(2));
    }
    assert_eq!(gated.runs(), 2);
    until(|| coalescer.lock().is_empty()).await;
}

/// A run that takes longer than the stall bound does not hold up the requests behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_run_is_left_behind() {
    let coalescer = Arc::new(Coalescer::new(Duration::from_millis(20)));
    let (gated, release) = Gated::new();
    let first = spawn_get(&coalescer, &gated);
    until(|| gated.runs() == 1).await;
    let second = spawn_get(&coalescer, &gated);
    until(|| gated.runs() == 2).await;
    release.send(()).unwrap();
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap(), Some(1));
    assert_eq!(second.await.unwrap(), Some(2));
}

#[tokio::test]
async fn a_panicking_run_answers_none_and_frees_the_lane() {
    let coalescer = Arc::new(Coalescer::<u8, u8>::new(Duration::from_secs(60)));
    assert_eq!(coalescer.get(7, || panic!("collector bug")).await, None);
    until(|| coalescer.lock().is_empty()).await;
    assert_eq!(coalescer.get(7, || 3).await, Some(3));
}
