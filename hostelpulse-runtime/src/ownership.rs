//! Which worker runs which account when several workers share a store.
//!
//! Every worker heartbeats into the store ([`hostelpulse_core::sync::JobStore::heartbeat`]) and
//! gets back the workers alive. From that list and the accounts, each computes the same
//! assignment on its own — no coordinator, no extra round trip:
//!
//! - accounts are taken in a fixed pseudo-random order (a hash of their scope);
//! - each goes to the worker that ranks it highest (rendezvous hashing: a hash of worker and
//!   account), unless that worker already has its fair share, `ceil(accounts / workers)`; then
//!   to the next in its ranking.
//!
//! So no worker owns more than its fair share; when a worker joins or leaves, only about the
//! share that must move moves. Ownership decides who *starts* an account's runs; the account's
//! lease still guarantees that no two workers run it at once, whatever each believes (workers
//! can briefly disagree while a heartbeat propagates). An account its owner leaves undone past
//! a grace time is run by any worker, so a worker that hangs without dying costs lateness, not
//! freshness.

use hostelpulse_core::sync::Scope;

/// 64-bit FNV-1a: stable across builds and platforms (every worker must compute the same
/// assignment, whatever compiler built it — the standard library's hasher promises no such
/// thing).
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().copied().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // A final mix: FNV's low bits are weak for short keys that differ only at the end.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn account_key(scope: &Scope) -> [&[u8]; 2] {
    [scope.connector.as_str().as_bytes(), scope.account.as_str().as_bytes()]
}

/// The fair share of `accounts` among `workers`.
pub fn fair_share(accounts: usize, workers: usize) -> usize {
    accounts.div_ceil(workers.max(1))
}

/// Which of `scopes` worker `me` owns, given the workers alive (`live`, in any order). A worker
/// missing from `live` (it has not heartbeated yet) owns every account; so does a worker alone.
pub fn assign(scopes: &[Scope], live: &[String], me: &str) -> Vec<bool> {
    if live.len() <= 1 || !live.iter().any(|w| w == me) {
        return vec![true; scopes.len()];
    }
    let mut workers: Vec<&str> = live.iter().map(String::as_str).collect();
    workers.sort_unstable();
    workers.dedup();
    let cap = fair_share(scopes.len(), workers.len());
    let mut order: Vec<(u64, usize)> = scopes.iter().enumerate().map(|(i, s)| (fnv(&account_key(s)), i)).collect();
    order.sort_unstable();
    let mut load = vec![0usize; workers.len()];
    let mut mine = vec![false; scopes.len()];
    let me_at = workers.iter().position(|w| *w == me);
    for (_, i) in order {
        let [c, a] = account_key(&scopes[i]);
        let mut ranked: Vec<(u64, usize)> =
            workers.iter().enumerate().map(|(w, name)| (fnv(&[name.as_bytes(), c, a]), w)).collect();
        ranked.sort_unstable_by(|x, y| y.cmp(x));
        if let Some(&(_, w)) = ranked.iter().find(|(_, w)| load[*w] < cap) {
            load[w] += 1;
            mine[i] = Some(w) == me_at;
        }
    }
    mine
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostelpulse_core::model::{AccountId, ConnectorKind};

    fn scopes(n: usize) -> Vec<Scope> {
        (0..n)
            .map(|i| {
                let kind = if i % 2 == 0 { ConnectorKind::BEDS24 } else { ConnectorKind::CLOUDBEDS };
                Scope::new(kind, AccountId::new(format!("hostel-{i}")))
            })
            .collect()
    }

    fn workers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("worker-{i}:{}", 1000 + i)).collect()
    }

    #[test]
    fn every_account_has_exactly_one_owner_and_none_more_than_its_share() {
        for (accounts, n) in [(300, 3), (301, 3), (7, 3), (1000, 7), (2, 5), (0, 2)] {
            let s = scopes(accounts);
            let live = workers(n);
            let owned: Vec<Vec<bool>> = live.iter().map(|w| assign(&s, &live, w)).collect();
            for i in 0..accounts {
                assert_eq!(owned.iter().filter(|m| m[i]).count(), 1, "account {i} of {accounts} with {n} workers");
            }
            for m in &owned {
                assert!(m.iter().filter(|x| **x).count() <= fair_share(accounts, n), "{accounts}/{n}");
            }
        }
    }

    #[test]
    fn the_order_of_the_live_list_does_not_matter() {
        let s = scopes(120);
        let mut live = workers(4);
        let before = assign(&s, &live, "worker-2:1002");
        live.reverse();
        assert_eq!(assign(&s, &live, "worker-2:1002"), before);
    }

    #[test]
    fn a_worker_leaving_moves_its_accounts_and_few_others() {
        let s = scopes(300);
        let three = workers(3);
        let two = vec![three[0].clone(), three[1].clone()];
        let mut moved = 0;
        for w in &two {
            let (a, b) = (assign(&s, &three, w), assign(&s, &two, w));
            // What a remaining worker owned it mostly keeps.
            moved += a.iter().zip(&b).filter(|(x, y)| **x && !**y).count();
        }
        let gone_owned = assign(&s, &three, &three[2]);
        let after: Vec<Vec<bool>> = two.iter().map(|w| assign(&s, &two, w)).collect();
        for (i, was) in gone_owned.iter().enumerate() {
            if *was {
                assert!(after.iter().any(|m| m[i]), "account {i} is taken over");
            }
        }
        assert!(moved <= 30, "{moved} accounts changed hands between the two remaining workers");
    }

    #[test]
    fn alone_or_unknown_a_worker_owns_everything() {
        let s = scopes(10);
        assert!(assign(&s, &workers(1), "worker-0:1000").iter().all(|m| *m));
        assert!(assign(&s, &workers(3), "newcomer").iter().all(|m| *m));
    }
}
