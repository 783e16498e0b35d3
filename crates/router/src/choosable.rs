//! The tiers a router may choose, per feature tag (metrics.md's "tiers the router can choose").
//! Training keeps, for each tag with enough prompts that every tier answered, the tiers the
//! no-features prior chooses somewhere on the λ sweep ([`crate::policy::prior_choices`]); a
//! tier off that hull is beaten at every λ by a mix of tiers on it, so choosing it for single
//! prompts bets on per-tier differences the features rarely resolve (RouterBench MBPP:
//! claude-v2 as good as gpt-3.5 at 17 times the cost). Prompts of a tag not listed, or of no
//! tag when none is listed, may go to any tier.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The tiers the policy may choose for the prompts of one feature tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choosable {
    /// The feature tag; `None` for prompts logged without one.
    pub feature: Option<String>,
    /// The tiers it may choose, by name, cheapest first.
    pub tiers: Vec<String>,
}

/// [`Choosable`] lists as per-tier masks, looked up by a prompt's tag without allocating.
#[derive(Debug, Clone, Default)]
pub struct Masks {
    tagged: HashMap<String, Vec<bool>>,
    untagged: Vec<bool>,
}

impl Masks {
    /// Masks over `tiers`; an error names the first entry that lists an unknown tier, no tier, or
    /// a tag listed before.
    pub fn new(list: &[Choosable], tiers: &[&str]) -> Result<Masks, String> {
        let mut out = Masks::default();
        let mut seen = HashSet::new();
        for (k, c) in list.iter().enumerate() {
            let at = format!("`choosable[{k}]`");
            if !seen.insert(&c.feature) {
                return Err(format!("{at}: feature {:?} is listed twice", c.feature));
            }
            if c.tiers.is_empty() {
                return Err(format!("{at}: lists no tier"));
            }
            let mut mask = vec![false; tiers.len()];
            for name in &c.tiers {
                let t = tiers.iter().position(|t| t == name).ok_or_else(|| {
                    format!(
                        "{at}: `{name}` is not one of the tiers ({})",
                        tiers.join(", ")
                    )
                })?;
                mask[t] = true;
            }
            match &c.feature {
                Some(f) => {
                    out.tagged.insert(f.clone(), mask);
                }
                None => out.untagged = mask,
            }
        }
        Ok(out)
    }

    /// The mask for a prompt's tag: empty (every tier) when its tag is not listed.
    #[inline]
    pub fn get(&self, feature: Option<&str>) -> &[bool] {
        match feature {
            Some(f) => self.tagged.get(f).map_or(&[], Vec::as_slice),
            None => &self.untagged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(feature: Option<&str>, tiers: &[&str]) -> Choosable {
        Choosable {
            feature: feature.map(String::from),
            tiers: tiers.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn masks_by_tag_and_every_tier_for_the_rest() {
        let tiers = ["a", "b", "c"];
        let m = Masks::new(&[entry(Some("code"), &["a", "c"])], &tiers).unwrap();
        assert_eq!(m.get(Some("code")), [true, false, true]);
        assert!(m.get(Some("chat")).is_empty() && m.get(None).is_empty());
        let m = Masks::new(&[entry(None, &["b"])], &tiers).unwrap();
        assert_eq!(m.get(None), [false, true, false]);
        assert!(m.get(Some("code")).is_empty());
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        let tiers = ["a", "b"];
        let err = |l: &[Choosable]| Masks::new(l, &tiers).unwrap_err();
        assert!(err(&[entry(Some("x"), &["z"])]).contains("`choosable[0]`: `z` is not one"));
        assert!(err(&[entry(Some("x"), &[])]).contains("lists no tier"));
        let twice = [entry(None, &["a"]), entry(None, &["b"])];
        assert!(err(&twice).contains("`choosable[1]`: feature None is listed twice"));
    }
}
