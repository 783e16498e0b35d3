//! Where a picture's text goes, in pixels: the ticks of a logarithmic cost axis, the legend's
//! corner (the one hiding the fewest points) and each label (beside its marker, where it covers
//! no other label, marker, line or the legend). Pure functions, so they are tested alone.
use super::{Figure, LABEL_PX, ORACLE};
use crate::curve::Point;

/// A pixel rectangle: left, top, right, bottom.
pub(super) type Rect = (i32, i32, i32, i32);

/// Labelled ticks and unlabelled grid lines for a logarithmic axis over `lo..hi` (> 0): labels at
/// 1, 2 and 5 × 10^k (1 and 3 × 10^k, or 10^k alone, when that would be more than 8 labels),
/// grid lines at the other whole multiples of 10^k.
pub(super) fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return (vec![], vec![]);
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let at = |steps: &[u32]| -> Vec<f64> {
        (first..=last)
            .flat_map(|k| steps.iter().map(move |&s| round(s as f64 * 10f64.powi(k))))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let labelled = [&[1, 2, 5][..], &[1, 3], &[1]]
        .into_iter()
        .map(at)
        .find(|t| t.len() <= 8)
        .unwrap_or_default();
    let light = at(&[1, 2, 3, 4, 5, 6, 7, 8, 9])
        .into_iter()
        .filter(|v| !labelled.contains(v))
        .collect();
    (labelled, light)
}

/// `v` to 12 significant digits, so that 3 × 10^-4 prints as 0.0003.
fn round(v: f64) -> f64 {
    format!("{v:.12e}").parse().unwrap_or(v)
}

/// The size of `text` in a sans-serif font of `px` pixels: ~0.56 em per character.
pub(super) fn text_size(text: &str, px: i32) -> (i32, i32) {
    let w = (text.chars().count() as f64 * px as f64 * 0.56).ceil() as i32;
    (w, px)
}

/// Of `area`'s four corners (inset by 5 pixels, as plotters places a legend), the box of `size`
/// that holds the fewest of `points`; ties go to lower right, upper left, upper right, lower
/// left, in that order.
pub(super) fn legend_box(area: Rect, size: (i32, i32), points: &[(i32, i32)]) -> Rect {
    let (l, t, r, b) = area;
    let (w, h) = size;
    let corners = [
        (r - 5 - w, b - 5 - h),
        (l + 5, t + 5),
        (r - 5 - w, t + 5),
        (l + 5, b - 5 - h),
    ];
    let boxes = corners.map(|(x, y)| (x, y, x + w, y + h));
    let inside = |q: &Rect| points.iter().filter(|p| contains(q, **p)).count();
    // `min_by_key` keeps the first of equal keys: the order above.
    *boxes
        .iter()
        .min_by_key(|q| inside(q))
        .expect("four corners")
}

fn contains(r: &Rect, (x, y): (i32, i32)) -> bool {
    (r.0..=r.2).contains(&x) && (r.1..=r.3).contains(&y)
}

fn overlap(a: &Rect, b: &Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0) as i64;
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0) as i64;
    w * h
}

/// The top-left corner of a label of `size` for the marker at `at`: the first of right-above,
/// right-below, left-above, left-below, above and below that lies inside `area` and overlaps
/// nothing in `taken`; else the one overlapping least. The label's box is added to `taken`.
pub(super) fn place_label(
    at: (i32, i32),
    size: (i32, i32),
    area: Rect,
    taken: &mut Vec<Rect>,
) -> (i32, i32) {
    let (x, y) = at;
    let (w, h) = size;
    let spots = [
        (x + 7, y - h - 5),
        (x + 7, y + 5),
        (x - 7 - w, y - h - 5),
        (x - 7 - w, y + 5),
        (x - w / 2, y - h - 8),
        (x - w / 2, y + 8),
    ];
    let cost = |&(sx, sy): &(i32, i32)| {
        let r = (sx, sy, sx + w, sy + h);
        let outside = (w as i64 * h as i64) - overlap(&r, &area);
        let covered: i64 = taken.iter().map(|t| overlap(&r, t)).sum();
        // Leaving the plot is worse than covering something.
        outside * 4 + covered
    };
    let best = *spots
        .iter()
        .min_by_key(|s| cost(s))
        .expect("six candidate spots");
    taken.push((best.0, best.1, best.0 + w, best.1 + h));
    best
}

/// The box of a marker of radius `r` at `at`, for [`place_label`]'s `taken`.
pub(super) fn marker(at: (i32, i32), r: i32) -> Rect {
    (at.0 - r, at.1 - r, at.0 + r, at.1 + r)
}

/// Where [`place`] puts the legend and the labels.
pub(super) struct Placement {
    /// The legend's box.
    pub legend: Rect,
    /// Per tier of the figure, in its order: the label's top left, from the marker.
    pub tiers: Vec<(i32, i32)>,
    /// The oracle's label, from its marker.
    pub oracle: Option<(i32, i32)>,
    /// The operating point's label, from its marker.
    pub operating: Option<(i32, i32)>,
}

/// Lay out `f`, whose `lines` are drawn through the given points, in the plotting `area` (`px`
/// maps a point to pixels): the legend of `legend` size in the corner hiding the fewest points,
/// then the operating point's label, the tiers' from left to right and the oracle's, each where
/// it covers least.
pub(super) fn place(
    f: &Figure,
    lines: &[&[Point]],
    area: Rect,
    legend: (i32, i32),
    px: impl Fn(&Point) -> (i32, i32),
) -> Placement {
    let tier_xy: Vec<(i32, i32)> = f.tiers.iter().map(|t| px(&(t.cost, t.quality))).collect();
    let lines: Vec<(i32, i32)> = lines.iter().flat_map(|l| l.iter()).map(&px).collect();
    let oracle = f.oracle.map(|o| px(&o));
    let operating = f.operating.as_ref().map(|(o, label)| (px(o), label));
    let points: Vec<(i32, i32)> = tier_xy
        .iter()
        .copied()
        .chain(f.router.iter().map(|&(_, x, y)| px(&(x, y))))
        .chain(lines.iter().copied())
        .chain(oracle)
        .chain(operating.map(|o| o.0))
        .collect();
    let legend = legend_box(area, legend, &points);
    // What a label must not cover: the legend, the markers, the lines (lightly: a label would
    // rather sit beside a line than across it) and the labels placed before it.
    let mut taken = vec![legend];
    taken.extend(tier_xy.iter().map(|&p| marker(p, 6)));
    taken.extend(oracle.map(|p| marker(p, 8)));
    taken.extend(lines.iter().map(|&p| marker(p, 1)));
    let label = |at: (i32, i32), text: &str, taken: &mut Vec<Rect>| {
        let (x, y) = place_label(at, text_size(text, LABEL_PX), area, taken);
        (x - at.0, y - at.1)
    };
    let operating = operating.map(|(at, text)| {
        taken.push(marker(at, 10));
        label(at, text, &mut taken)
    });
    let mut order: Vec<usize> = (0..f.tiers.len()).collect();
    order.sort_by(|&a, &b| f.tiers[a].cost.total_cmp(&f.tiers[b].cost));
    let mut tiers = vec![(0, 0); f.tiers.len()];
    for i in order {
        tiers[i] = label(tier_xy[i], &f.tiers[i].name, &mut taken);
    }
    let oracle = oracle.map(|at| label(at, ORACLE, &mut taken));
    Placement {
        legend,
        tiers,
        oracle,
        operating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_label_a_few_round_costs() {
        // Two decades: 1, 2, 5 × 10^k.
        let (bold, light) = log_ticks(7e-5, 7e-3);
        assert_eq!(bold, vec![1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3]);
        assert!(light.contains(&3e-4) && light.contains(&7e-5) && light.contains(&7e-3));
        assert!(light.iter().all(|v| !bold.contains(v)));
        // Three decades: too many for 1-2-5, so 1 and 3.
        let (bold, _) = log_ticks(1e-5, 1e-2);
        assert_eq!(bold, vec![1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]);
        // Four and six decades: powers of ten only.
        let (bold, _) = log_ticks(1e-6, 1e-2);
        assert_eq!(bold, vec![1e-6, 1e-5, 1e-4, 1e-3, 1e-2]);
        let (bold, _) = log_ticks(1e-7, 0.5);
        assert_eq!(bold, vec![1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1]);
        assert_eq!(log_ticks(0.0, 1.0), (vec![], vec![]));
        assert_eq!(log_ticks(2.0, 1.0), (vec![], vec![]));
    }

    #[test]
    fn the_legend_takes_the_emptiest_corner() {
        let area = (0, 0, 100, 100);
        // Empty: lower right.
        assert_eq!(legend_box(area, (20, 10), &[]), (75, 85, 95, 95));
        // A point in the lower right: upper left.
        assert_eq!(legend_box(area, (20, 10), &[(90, 90)]), (5, 5, 25, 15));
        // Points in three corners: the fourth.
        let pts = [(90, 90), (10, 10), (90, 10)];
        assert_eq!(legend_box(area, (20, 10), &pts), (5, 85, 25, 95));
    }

    #[test]
    fn labels_move_aside_for_each_other_and_stay_inside() {
        let area = (0, 0, 400, 300);
        let mut taken = vec![marker((100, 100), 5), marker((110, 100), 5)];
        let a = place_label((100, 100), (60, 13), area, &mut taken);
        assert_eq!(a, (107, 82)); // right-above, the first choice
        let b = place_label((110, 100), (60, 13), area, &mut taken);
        assert_ne!(b.1, a.1, "the second label must not sit on the first");
        let (ra, rb) = (taken[2], taken[3]);
        assert_eq!(overlap(&ra, &rb), 0);
        // At the right edge the label goes left.
        let c = place_label((395, 200), (60, 13), area, &mut taken);
        assert!(c.0 + 60 <= 400, "{c:?}");
        // Nowhere free: the least covered spot, still inside.
        let mut full = vec![area];
        let d = place_label((200, 150), (60, 13), area, &mut full);
        assert!(d.0 >= 0 && d.1 >= 0 && d.0 + 60 <= 400 && d.1 + 13 <= 300);
    }

    #[test]
    fn text_is_measured_by_its_characters() {
        assert_eq!(text_size("", 13), (0, 13));
        assert_eq!(text_size("gpt-4o", 13), (44, 13));
        assert_eq!(text_size("λ=0.05", 13).0, text_size("x=0.05", 13).0);
    }
}
