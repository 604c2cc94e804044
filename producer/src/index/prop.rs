//! Property: whatever the interleaving of applies, deletes, relists and partial flushes, flushing
//! everything at the end leaves the published state equal to the final latest state, and the
//! emitted deltas applied in order by a client are always valid (added only when absent,
//! updated/deleted only when present, never an unchanged update), and the minimum pod lifetime
//! holds: a pod is only ever `added` once it has existed `MIN_LIFETIME`, so a pod that lived
//! shorter is never shown.

use super::*;
use crate::fixtures;
use crate::project::Project;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    ApplyPod {
        pod: usize,
        rs: usize,
        variant: u8,
    },
    DeletePod(usize),
    ApplyRs {
        rs: usize,
        deployment: Option<usize>,
    },
    DeleteRs(usize),
    /// Relist pods, listing those whose bit is set (with their current variant).
    RelistPods(u8),
    /// Flush the keys whose bit is set.
    Flush(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..4usize, 0..2usize, 0..3u8).prop_map(|(pod, rs, variant)| Step::ApplyPod { pod, rs, variant }),
        2 => (0..4usize).prop_map(Step::DeletePod),
        2 => (0..2usize, proptest::option::of(0..2usize)).prop_map(|(rs, deployment)| Step::ApplyRs { rs, deployment }),
        1 => (0..2usize).prop_map(Step::DeleteRs),
        1 => any::<u8>().prop_map(Step::RelistPods),
        3 => any::<u8>().prop_map(Step::Flush),
    ]
}

fn pod_value(pod: usize, rs: usize, variant: u8) -> Projection {
    let mut b = fixtures::pod("ns", &format!("pod-{pod}")).owned_by_rs(&format!("rs-{rs}"));
    match variant {
        0 => {}
        1 => b = b.running(),
        _ => b = b.container_waiting("app", "CrashLoopBackOff", 1),
    }
    b.build().project().expect("pod")
}

fn rs_value(rs: usize, deployment: Option<usize>) -> Projection {
    let d = deployment.map(|d| format!("deploy-{d}"));
    fixtures::replica_set("ns", &format!("rs-{rs}"), d.as_deref(), 1, 1)
        .project()
        .expect("rs")
}

/// Applies deltas as a client would, checking each one is valid.
fn apply_to_client(
    client: &mut BTreeMap<String, Value>,
    deltas: &[Delta],
) -> Result<(), TestCaseError> {
    for d in deltas {
        match d.op {
            Op::Added => prop_assert!(
                client.insert(d.key.clone(), d.obj.value()).is_none(),
                "added twice"
            ),
            Op::Updated => {
                let old = client.insert(d.key.clone(), d.obj.value());
                prop_assert!(old.is_some(), "updated an absent key");
                prop_assert_ne!(old, Some(d.obj.value()), "unchanged update");
            }
            Op::Deleted => prop_assert!(client.remove(&d.key).is_some(), "deleted an absent key"),
            _ => prop_assert!(false, "unexpected op"),
        }
    }
    Ok(())
}

/// Minimum pod lifetime of the property, in steps (one step = 1 ms).
const MIN_LIFETIME: u64 = 3;

/// Checks no pod is added before it is `MIN_LIFETIME` old.
fn check_lifetimes(
    deltas: &[Delta],
    born: &BTreeMap<String, u64>,
    now: u64,
) -> Result<(), TestCaseError> {
    for d in deltas
        .iter()
        .filter(|d| d.op == Op::Added && d.kind() == "Pod")
    {
        let b = born.get(&d.key).copied().unwrap_or(0);
        prop_assert!(
            now >= b + MIN_LIFETIME,
            "{} added at {now}, born {b}",
            d.key
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn flushing_everything_publishes_exactly_the_final_state(steps in proptest::collection::vec(step(), 1..60)) {
        let mut index = Index::with_min_pod_lifetime(MIN_LIFETIME);
        let mut born: BTreeMap<String, u64> = BTreeMap::new();
        let mut client = BTreeMap::new();
        let mut live_pods: BTreeMap<usize, Projection> = BTreeMap::new();
        let mut live: BTreeMap<String, Projection> = BTreeMap::new();
        let mut dirty: BTreeSet<String> = BTreeSet::new();
        for (t, step) in steps.into_iter().enumerate() {
            let t = t as u64;
            let inputs = match step {
                Step::ApplyPod { pod, rs, variant } => {
                    let p = pod_value(pod, rs, variant);
                    live_pods.insert(pod, p.clone());
                    vec![Input::Apply(p)]
                }
                Step::DeletePod(pod) => live_pods.remove(&pod).map(Input::Delete).into_iter().collect(),
                Step::ApplyRs { rs, deployment } => vec![Input::Apply(rs_value(rs, deployment))],
                Step::DeleteRs(rs) => vec![Input::Delete(rs_value(rs, None))],
                Step::RelistPods(bits) => {
                    live_pods.retain(|pod, _| bits & (1 << pod) != 0);
                    let mut inputs = vec![Input::Init("Pod".into())];
                    inputs.extend(live_pods.values().cloned().map(Input::InitApply));
                    inputs.push(Input::InitDone("Pod".into()));
                    inputs
                }
                Step::Flush(bits) => {
                    dirty.extend(index.take_released(t));
                    let keys: Vec<String> = dirty.iter().enumerate()
                        .filter(|(i, _)| bits & (1 << (i % 8)) != 0).map(|(_, k)| k.clone()).collect();
                    let deltas = index.flush(&keys, t);
                    index.commit(&deltas);
                    check_lifetimes(&deltas, &born, t)?;
                    apply_to_client(&mut client, &deltas)?;
                    for k in keys { dirty.remove(&k); }
                    Vec::new()
                }
            };
            for input in inputs {
                match &input {
                    Input::Apply(p) | Input::InitApply(p) => {
                        if !live.contains_key(&p.key()) { born.insert(p.key(), t); }
                        live.insert(p.key(), p.clone());
                    }
                    Input::Delete(p) => { live.remove(&p.key()); born.remove(&p.key()); }
                    _ => {}
                }
                if let Input::InitDone(_) = input {
                    live.retain(|k, _| !k.starts_with("Pod/") || live_pods.values().any(|p| &p.key() == k));
                    born.retain(|k, _| live.contains_key(k));
                }
                dirty.extend(index.apply(input, t));
            }
        }
        // Settle: everything pending, plus the held pods, once every pod is old enough.
        dirty.extend(index.take_released(1000));
        let deltas = index.flush(&dirty, 1000);
        index.commit(&deltas);
        check_lifetimes(&deltas, &born, 1000)?;
        apply_to_client(&mut client, &deltas)?;
        prop_assert_eq!(index.next_release_ms(), None);
        let mut fresh = Index::new();
        for p in live.values() { fresh.apply(Input::Apply(p.clone()), 0); }
        prop_assert_eq!(&client, &fresh.rendered());
        let published: BTreeMap<String, Value> =
            index.published().iter().map(|(k, p)| (k.clone(), p.obj.clone())).collect();
        prop_assert_eq!(published, fresh.rendered());
    }
}
