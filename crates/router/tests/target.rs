//! `Router::load_with` re-picks λ for another target from the stored validation curve, and
//! the router's metadata then describes that operating point (what an eval compares with).
use std::path::Path;

use tierwise_router::policy::{best_single, Target};
use tierwise_router::Router;

#[test]
fn another_target_moves_lambda_and_the_predicted_figures_with_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    let stored = Router::load(&dir).expect("models/demo loads");
    let cheap = Router::load_with(&dir, Target::Cost(0.3)).expect("a cost target");
    let (m, s) = (cheap.meta(), stored.meta());
    assert_eq!(m.target, "cost=0.3");
    assert!(
        cheap.lambda() > stored.lambda(),
        "{} vs {}",
        cheap.lambda(),
        stored.lambda()
    );
    assert_eq!(m.lambda, cheap.lambda());
    // The predicted figures are the curve's point at the new λ, standard errors included.
    let point = m
        .validation_curve
        .iter()
        .find(|c| c.lambda == cheap.lambda())
        .expect("λ is a point of the curve");
    assert_eq!(
        (m.predicted.quality, m.predicted.cost_usd),
        (point.quality, point.cost_usd)
    );
    assert_eq!(
        (m.predicted.quality_se, m.predicted.cost_usd_se),
        (point.quality_se, point.cost_usd_se)
    );
    assert!(m.predicted.quality_se.is_some_and(|se| se > 0.0));
    let best = best_single(&m.single_tiers).expect("single tiers");
    assert!(m.predicted.cost_usd <= 0.3 * best.cost_usd + 1e-15);
    assert!(m.predicted.cost_usd < s.predicted.cost_usd);
    // The stored artifact is untouched by another router's target.
    assert_eq!(Router::load(&dir).unwrap().meta().predicted, s.predicted);
}
