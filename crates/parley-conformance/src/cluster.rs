//! What several nodes on one database rely on.

use crate::*;

/// One holder at a time; the holder renews; an expired lease passes to whoever asks first, and
/// of many nodes asking at once exactly one gets it.
pub async fn leases_have_one_holder_at_a_time(s: DynStore) {
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let t = 1_000_000;
    assert!(s.try_lease("jobs", a, 3_000, t).await.unwrap());
    assert!(!s.try_lease("jobs", b, 3_000, t + 10).await.unwrap());
    assert!(
        s.try_lease("jobs", a, 3_000, t + 2_000).await.unwrap(),
        "renewal"
    );
    assert!(
        !s.try_lease("jobs", b, 3_000, t + 4_000).await.unwrap(),
        "renewed until t+5000"
    );
    assert!(
        s.try_lease("other", b, 3_000, t + 4_000).await.unwrap(),
        "leases are per name"
    );
    assert!(
        s.try_lease("jobs", b, 3_000, t + 5_000).await.unwrap(),
        "expired: b takes over"
    );
    assert!(!s.try_lease("jobs", a, 3_000, t + 5_001).await.unwrap());

    let later = t + 100_000;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.try_lease("jobs", uuid::Uuid::now_v7(), 3_000, later)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap() as usize;
    }
    assert_eq!(
        won, 1,
        "exactly one of sixteen racing nodes holds the lease"
    );
}
