//! Seeded k-fold splits over prompts, optionally keeping whole groups (subjects, tasks,
//! features) on one side, so validation measures generalisation to unseen groups.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Assign each of `n` items to one of `k` folds, shuffled with `seed`. With `groups`, every item
/// of a group lands in the same fold (groups are shuffled, then dealt to the smallest fold).
pub fn assign(n: usize, k: usize, seed: u64, groups: Option<&[String]>) -> Vec<usize> {
    assert!(k >= 1, "k must be at least 1");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match groups {
        None => {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let mut fold = vec![0; n];
            for (i, &item) in order.iter().enumerate() {
                fold[item] = i % k;
            }
            fold
        }
        Some(groups) => {
            assert_eq!(groups.len(), n, "one group per item");
            let mut names: Vec<&String> = groups.iter().collect();
            names.sort();
            names.dedup();
            names.shuffle(&mut rng);
            let mut sizes = vec![0usize; k];
            let mut of_group = std::collections::HashMap::new();
            for g in names {
                let size = groups.iter().filter(|x| *x == g).count();
                let f = (0..k).min_by_key(|&f| (sizes[f], f)).unwrap_or(0);
                sizes[f] += size;
                of_group.insert(g.clone(), f);
            }
            groups.iter().map(|g| of_group[g]).collect()
        }
    }
}

/// `(train, test)` index lists for fold `f` of an assignment.
pub fn split(assignment: &[usize], f: usize) -> (Vec<usize>, Vec<usize>) {
    (0..assignment.len()).partition(|&i| assignment[i] != f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_balanced_seeded_and_group_pure() {
        let a = assign(10, 3, 1, None);
        assert_eq!(a, assign(10, 3, 1, None));
        for f in 0..3 {
            let n = a.iter().filter(|&&x| x == f).count();
            assert!((3..=4).contains(&n));
        }
        let groups: Vec<String> = (0..12).map(|i| format!("g{}", i % 4)).collect();
        let a = assign(12, 2, 7, Some(&groups));
        for i in 0..12 {
            for j in 0..12 {
                if groups[i] == groups[j] {
                    assert_eq!(a[i], a[j]);
                }
            }
        }
        let (train, test) = split(&a, 0);
        assert_eq!(train.len() + test.len(), 12);
    }
}
