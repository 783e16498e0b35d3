//! Cost–quality curves: the λ grid and policy of the router's sweep, upper convex hulls, and the
//! AIQ integral, as defined in `docs/metrics.md`.

/// A point of a cost–quality curve: mean cost `x`, mean quality `y`.
pub type Point = (f64, f64);

pub use tierwise_router::policy::{choose, choose_among, cost_scale, lambda_grid};

fn cross(o: Point, a: Point, b: Point) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// The upper convex hull of `points`, left to right (monotone chain). Points on a hull edge are
/// dropped; among points with the same cost only the best quality counts.
pub fn upper_hull(points: &[Point]) -> Vec<Point> {
    let mut pts: Vec<Point> = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    pts.dedup_by(|b, a| a.0 == b.0);
    let mut hull: Vec<Point> = Vec::with_capacity(pts.len());
    for p in pts {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) >= 0.0 {
            hull.pop();
        }
        hull.push(p);
    }
    hull
}

/// The upper, non-decreasing convex hull: the upper hull of the points that no cheaper (or
/// equally cheap) point matches in quality. Quality rises with cost along it.
pub fn nondecreasing_hull(points: &[Point]) -> Vec<Point> {
    let mut pts: Vec<Point> = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut frontier: Vec<Point> = Vec::with_capacity(pts.len());
    for p in pts {
        if frontier.last().is_none_or(|l| p.1 > l.1) {
            frontier.push(p);
        }
    }
    upper_hull(&frontier)
}

/// AIQ of a set of points over the cost range `[lo, hi]` (min and max single-tier cost).
///
/// Reading of `docs/metrics.md`: the curve is the non-decreasing upper hull h of the points, read
/// as "the best quality reachable with mean cost ≤ x". Beyond the hull's last point it stays flat
/// at that point's quality. Where the hull's first point lies left of `lo`, only the part inside
/// the range counts. Where the first point lies *right* of `lo`, no router point is affordable
/// for budgets between `lo` and that point, so the curve counts as quality 0 there: a router
/// that cannot run as cheaply as the cheapest tier loses that area rather than being credited
/// with quality it cannot deliver at that cost. The integral is divided by `hi − lo`; when all
/// tiers cost the same (`hi == lo`) the AIQ is the curve's value at `lo`.
pub fn aiq(points: &[Point], lo: f64, hi: f64) -> f64 {
    let hull = nondecreasing_hull(points);
    let Some(&first) = hull.first() else {
        return 0.0;
    };
    let last = *hull.last().expect("non-empty");
    let value_at = |x: f64| -> f64 {
        if x < first.0 {
            return 0.0;
        }
        if x >= last.0 {
            return last.1;
        }
        let i = hull.partition_point(|p| p.0 <= x);
        let (a, b) = (hull[i - 1], hull[i]);
        a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
    };
    if hi <= lo {
        return value_at(lo);
    }
    // Breakpoints of the piecewise-linear curve inside (lo, hi): every hull point (the first one
    // is also where the curve steps up from 0). Each piece is linear, so its trapezoid is exact.
    let mut xs: Vec<f64> = vec![lo];
    xs.extend(hull.iter().map(|p| p.0).filter(|&x| x > lo && x < hi));
    xs.push(hi);
    let mut area = 0.0;
    for w in xs.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b > a && 0.5 * (a + b) >= first.0 {
            area += 0.5 * (value_at(a) + value_at(b)) * (b - a);
        }
    }
    area / (hi - lo)
}
