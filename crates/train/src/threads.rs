//! Thread settings for candle's CPU backend while training.
//!
//! The members of the ensemble are fitted in parallel, one rayon task each, and their nets are
//! small. Under candle's defaults two things waste the cores:
//! - every matmul asks for the thread count, which without `RAYON_NUM_THREADS` re-reads
//!   `/proc/cpuinfo` (`num_cpus::get_physical`);
//! - element-wise kernels hand work to candle's own pool, whose waiting workers spin on the
//!   same cores the other members need (`CANDLE_NUM_THREADS` sizes that pool).
//!
//! [`env_defaults`] names the settings that avoid both, and [`apply_env_defaults`] sets them; a
//! binary calls it first thing in `main`, before any thread exists (`tierwise` does). Results do not change: the weights are
//! the same bytes with and without them. On 2 cores, `tierwise train` on RouteLLM MMLU took
//! ~17 s without them and ~9 s with them and the members in parallel.

/// The environment variables to set, with their values, for those of `CANDLE_NUM_THREADS` and
/// `RAYON_NUM_THREADS` that `get` reports unset: candle's own pool off (1 thread) and rayon at
/// `threads` (the thread count rayon would pick, e.g. `std::thread::available_parallelism`).
/// A value the user set is kept.
pub fn env_defaults(
    get: impl Fn(&str) -> Option<String>,
    threads: usize,
) -> Vec<(&'static str, String)> {
    [
        ("CANDLE_NUM_THREADS", 1),
        ("RAYON_NUM_THREADS", threads.max(1)),
    ]
    .into_iter()
    .filter(|(k, _)| get(k).is_none_or(|v| v.is_empty()))
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// Set [`env_defaults`] in this process's environment, with rayon at the machine's available
/// parallelism (rayon's own default). Call it at the start of `main`, before any thread starts:
/// changing the environment while other threads read it is not safe.
pub fn apply_env_defaults() {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for (key, value) in env_defaults(|k| std::env::var(k).ok(), threads) {
        std::env::set_var(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_only_what_is_unset() {
        let none = |_: &str| None;
        assert_eq!(
            env_defaults(none, 2),
            vec![
                ("CANDLE_NUM_THREADS", "1".to_string()),
                ("RAYON_NUM_THREADS", "2".to_string())
            ]
        );
        let rayon_set = |k: &str| (k == "RAYON_NUM_THREADS").then(|| "3".to_string());
        assert_eq!(
            env_defaults(rayon_set, 2),
            vec![("CANDLE_NUM_THREADS", "1".to_string())]
        );
        let both = |_: &str| Some("4".to_string());
        assert!(env_defaults(both, 2).is_empty());
        let empty = |_: &str| Some(String::new());
        assert_eq!(env_defaults(empty, 0).len(), 2);
        assert_eq!(env_defaults(none, 0)[1].1, "1");
    }
}
