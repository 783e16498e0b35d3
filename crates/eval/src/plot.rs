//! Cost (x) against quality (y) pictures: single tiers as labelled points, the zero-router hull,
//! the router's λ sweep with its hull and operating point, the oracle when known, and the target
//! the λ was chosen for. `curve.svg` of an eval report ([`draw`]), and `validation.svg` of a
//! trained router's out-of-bag validation curve ([`Figure::of_validation`]). The x axis is
//! logarithmic when costs span more than an order of magnitude, labelled at round costs; the
//! legend takes the emptiest corner and labels sit where they cover least (`layout`).
use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::MultiLineText;
use plotters::prelude::*;
use tierwise_router::artifact::ArtifactMeta;
use tierwise_router::policy::{best_single, Target};

use crate::curve::{self, Point};
use crate::error::{Error, Result};
use crate::markdown::num;
use crate::report::{Report, TierPoint};

mod layout;

const SIZE: (u32, u32) = (960, 640);
/// Font sizes: point labels and the legend.
const LABEL_PX: i32 = 13;
const LEGEND_PX: i32 = 14;
/// Legend entries.
const ZERO: &str = "zero router (mix of tiers)";
const ROUTER: &str = "router (λ sweep, hull)";
const TIERS: &str = "single tiers";
const ORACLE: &str = "oracle";
const OPERATING: &str = "router operating point";

/// What a picture shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// Single tiers.
    pub tiers: Vec<TierPoint>,
    /// The router's (λ, mean cost, mean quality) at each λ.
    pub router: Vec<(f64, f64, f64)>,
    /// Upper, non-decreasing hull of the router's points.
    pub router_hull: Vec<Point>,
    /// Upper hull of the single tiers (mixtures of tiers).
    pub zero_router_hull: Vec<Point>,
    /// The oracle's (cost, quality), when known.
    pub oracle: Option<Point>,
    /// Where the router operates, and its label.
    pub operating: Option<(Point, String)>,
    /// The target λ was chosen for, drawn as a line: a quality level or a cost budget.
    pub target: Option<(Guide, String)>,
}

/// A guide line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Guide {
    /// Horizontal, at this quality.
    Quality(f64),
    /// Vertical, at this cost.
    Cost(f64),
}

impl Figure {
    /// The picture of an eval report (`curve.svg`).
    pub fn of_report(r: &Report) -> Figure {
        let c = &r.curves;
        let op = &r.operating_point;
        let label = match op.lambda {
            Some(l) => format!("router @ λ={}", num(l)),
            None => "router decisions".into(),
        };
        Figure {
            title: format!("Cost vs quality on {} held-out prompts", r.prompts.used),
            tiers: c.tiers.clone(),
            router: c.router.clone(),
            router_hull: c.router_hull.clone(),
            zero_router_hull: c.zero_router_hull.clone(),
            oracle: Some(c.oracle),
            operating: Some(((op.realised_cost, op.realised_quality), label)),
            target: None,
        }
    }

    /// The picture of a trained router's validation (`validation.svg`): the λ sweep and the
    /// single tiers on the prompts it was validated on (out of bag), the chosen λ's predicted
    /// point, and the target it was chosen for.
    pub fn of_validation(m: &ArtifactMeta) -> Figure {
        let router: Vec<(f64, f64, f64)> = m
            .validation_curve
            .iter()
            .map(|p| (p.lambda, p.cost_usd, p.quality))
            .collect();
        let points: Vec<Point> = router.iter().map(|&(_, c, q)| (c, q)).collect();
        let tiers: Vec<TierPoint> = m
            .single_tiers
            .iter()
            .map(|t| TierPoint {
                name: t.tier.clone(),
                cost: t.cost_usd,
                quality: t.quality,
            })
            .collect();
        let tier_xy: Vec<Point> = tiers.iter().map(|t| (t.cost, t.quality)).collect();
        let best = best_single(&m.single_tiers);
        let target = match (m.target.parse::<Target>(), best) {
            (Ok(Target::Quality(f)), Some(b)) => Some((
                Guide::Quality(f * b.quality),
                format!("target: {}% of {}'s quality", pct(f), b.tier),
            )),
            (Ok(Target::Cost(f)), Some(b)) => Some((
                Guide::Cost(f * b.cost_usd),
                format!("target: {}% of {}'s cost", pct(f), b.tier),
            )),
            _ => None,
        };
        let basis = match m.curve_basis.as_str() {
            "logged" => "logged outcomes",
            _ => "predicted outcomes",
        };
        // `--val-split 0`: no member held a prompt out, so the curve is on the training prompts.
        let s = &m.training;
        let title = match !s.members.is_empty() && s.members.iter().all(|x| x.val_prompts == 0) {
            true => format!(
                "In sample (no validation split): {} training prompts, {basis}",
                s.prompts
            ),
            false => format!(
                "Validation: {} prompts held out of training, {basis}",
                s.val_prompts
            ),
        };
        Figure {
            title,
            tiers,
            router_hull: curve::nondecreasing_hull(&points),
            router,
            zero_router_hull: curve::upper_hull(&tier_xy),
            oracle: None,
            operating: Some((
                (m.predicted.cost_usd, m.predicted.quality),
                format!("λ={} ({})", num(m.lambda), m.target),
            )),
            target,
        }
    }
}

/// `f` as a percentage without trailing zeros (0.98 → 98, 0.975 → 97.5).
fn pct(f: f64) -> f64 {
    (f * 100.0 * 1e6).round() / 1e6
}

/// Draw the report's curves into an SVG file.
pub fn draw(r: &Report, path: &Path) -> Result<()> {
    draw_figure(&Figure::of_report(r), path)
}

/// Draw `f` into an SVG file.
pub fn draw_figure(f: &Figure, path: &Path) -> Result<()> {
    let fail = |e: String| Error::Plot {
        file: path.display().to_string(),
        reason: e,
    };
    let xs: Vec<f64> = f
        .tiers
        .iter()
        .map(|t| t.cost)
        .chain(f.router.iter().map(|p| p.1))
        .chain(f.oracle.map(|o| o.0))
        .chain(f.operating.iter().map(|o| o.0 .0))
        .collect();
    let ys: Vec<f64> = f
        .tiers
        .iter()
        .map(|t| t.quality)
        .chain(f.router.iter().map(|p| p.2))
        .chain(f.oracle.map(|o| o.1))
        .chain(f.operating.iter().map(|o| o.0 .1))
        .collect();
    let (x0, x1) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let (y0, y1) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    if !(x0.is_finite() && y0.is_finite()) {
        return Err(fail("nothing to draw".into()));
    }
    let ypad = ((y1 - y0) * 0.08).max(0.02);
    let y = (y0 - ypad).max(0.0)..(y1 + ypad).min(1.0 + ypad);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    if x0 > 0.0 && x1 / x0 >= 10.0 {
        let (lo, hi) = (x0 / 1.4, x1 * 1.4);
        let (labelled, light) = layout::log_ticks(lo, hi);
        let x = (lo..hi)
            .log_scale()
            .with_key_points(labelled)
            .with_light_points(light);
        chart(&root, x, y, f, true).map_err(fail)?;
    } else {
        let pad = ((x1 - x0) * 0.08).max(x1.abs() * 0.05).max(1e-9);
        chart(&root, (x0 - pad).max(0.0)..x1 + pad, y, f, false).map_err(fail)?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

fn chart<XS>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    x: XS,
    y: Range<f64>,
    f: &Figure,
    log: bool,
) -> std::result::Result<(), String>
where
    XS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let c = f;
    let title = format!("{}{}", f.title, if log { " (log cost)" } else { "" });
    let mut ch = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    ch.configure_mesh()
        .x_desc("mean cost per prompt")
        .y_desc("mean quality")
        // A log axis is labelled at round costs (`layout::log_ticks`): shortest form, 0.0005.
        .x_label_formatter(&|v| if log { format!("{v}") } else { num(*v) })
        .y_label_formatter(&|v| format!("{v:.2}"))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(e)?;
    let (xp, yp) = ch.plotting_area().get_pixel_range();
    let area = (xp.start, yp.start, xp.end, yp.end);
    // The legend goes in the corner that hides the fewest points and lines.
    let mut entries = vec![ZERO, ROUTER, TIERS];
    entries.extend(c.oracle.map(|_| ORACLE));
    entries.extend(c.target.as_ref().map(|(_, l)| l.as_str()));
    entries.extend(c.operating.as_ref().map(|_| OPERATING));
    let legend_font: TextStyle = ("sans-serif", LEGEND_PX).into_font().into();
    let mut text = MultiLineText::<_, &str>::new((0, 0), &legend_font);
    entries.iter().for_each(|l| text.push_line(*l));
    let (w, h) = text.estimate_dimension().map_err(|e| e.to_string())?;
    // As plotters sizes it: room for the legend marks (30) and a margin of 10 all round.
    let size = (w + 30 + 20, h + 20);
    // Mixtures of two points (tiers, or router policies) lie on the straight line between them
    // in linear cost: both hulls are drawn through samples of their segments. On a log axis a
    // straight line between the vertices would lie above what the mixtures achieve.
    let (zero_line, router_line) = (densify(&c.zero_router_hull), densify(&c.router_hull));
    let at = layout::place(c, &[&router_line, &zero_line], area, size, |p| {
        ch.backend_coord(p)
    });
    let grey = RGBColor(120, 120, 120);
    let blue = RGBColor(31, 119, 180);
    let red = RGBColor(214, 39, 40);
    let green = RGBColor(44, 160, 44);
    ch.draw_series(DashedLineSeries::new(zero_line, 6, 4, grey.stroke_width(2)))
        .map_err(e)?
        .label(ZERO)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
    ch.draw_series(
        c.router
            .iter()
            .map(|&(_, x, y)| Circle::new((x, y), 2, blue.mix(0.5).filled())),
    )
    .map_err(e)?;
    ch.draw_series(LineSeries::new(router_line, blue.stroke_width(3)))
        .map_err(e)?
        .label(ROUTER)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(3)));
    ch.draw_series(c.tiers.iter().zip(&at.tiers).map(|(t, offset)| {
        EmptyElement::at((t.cost, t.quality))
            + Circle::new((0, 0), 5, BLACK.filled())
            + Text::new(
                t.name.clone(),
                *offset,
                ("sans-serif", LABEL_PX).into_font(),
            )
    }))
    .map_err(e)?
    .label(TIERS)
    .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
    if let (Some(o), Some(offset)) = (c.oracle, at.oracle) {
        ch.draw_series(std::iter::once(
            EmptyElement::at(o)
                + Cross::new((0, 0), 7, green.stroke_width(3))
                + Text::new(ORACLE, offset, ("sans-serif", LABEL_PX).into_font()),
        ))
        .map_err(e)?
        .label(ORACLE)
        .legend(move |(x, y)| Cross::new((x + 10, y), 6, green.stroke_width(3)));
    }
    if let Some((guide, label)) = &c.target {
        let (xr, yr) = (ch.x_range(), ch.y_range());
        let line = match *guide {
            Guide::Quality(q) => vec![(xr.start, q), (xr.end, q)],
            Guide::Cost(x) => vec![(x, yr.start), (x, yr.end)],
        };
        let orange = RGBColor(255, 127, 14);
        ch.draw_series(DashedLineSeries::new(line, 3, 3, orange.stroke_width(1)))
            .map_err(e)?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(1)));
    }
    if let (Some((point, label)), Some(offset)) = (&c.operating, at.operating) {
        ch.draw_series(std::iter::once(
            EmptyElement::at(*point)
                + TriangleMarker::new((0, 0), 9, red.filled())
                + Text::new(label.clone(), offset, ("sans-serif", LABEL_PX).into_font()),
        ))
        .map_err(e)?
        .label(OPERATING)
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, red.filled()));
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(
            at.legend.0 - area.0,
            at.legend.1 - area.1,
        ))
        .background_style(WHITE.mix(0.85))
        .border_style(grey)
        .label_font(legend_font.clone())
        .draw()
        .map_err(e)?;
    Ok(())
}

/// Mixtures lie on straight lines in linear cost; sample each segment so it is drawn right on a
/// logarithmic axis too.
fn densify(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for w in points.windows(2) {
        for i in 0..32 {
            let f = i as f64 / 32.0;
            out.push((
                w[0].0 + f * (w[1].0 - w[0].0),
                w[0].1 + f * (w[1].1 - w[0].1),
            ));
        }
    }
    out.extend(points.last());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_meta() -> ArtifactMeta {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/demo/router.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn validation_figure_shows_the_artifacts_curve_point_and_target() {
        let mut m = demo_meta();
        let best = best_single(&m.single_tiers).unwrap().clone();
        let f = Figure::of_validation(&m);
        assert_eq!(f.router.len(), m.validation_curve.len());
        for (r, p) in f.router.iter().zip(&m.validation_curve) {
            assert_eq!(*r, (p.lambda, p.cost_usd, p.quality));
        }
        let names: Vec<&str> = f.tiers.iter().map(|t| t.name.as_str()).collect();
        let want: Vec<&str> = m.single_tiers.iter().map(|t| t.tier.as_str()).collect();
        assert_eq!(names, want);
        let op = f.operating.as_ref().unwrap();
        assert_eq!(op.0, (m.predicted.cost_usd, m.predicted.quality));
        assert!(op.1.contains("quality=0.98"), "{}", op.1);
        assert_eq!(
            f.target.as_ref().unwrap().0,
            Guide::Quality(0.98 * best.quality)
        );
        assert!(f.router_hull.len() >= 2 && f.oracle.is_none());

        m.target = "cost=0.5".into();
        let f = Figure::of_validation(&m);
        let (guide, label) = f.target.clone().unwrap();
        assert_eq!(guide, Guide::Cost(0.5 * best.cost_usd));
        assert_eq!(label, format!("target: 50% of {}'s cost", best.tier));
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("v.svg");
        draw_figure(&f, &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        let shown = |s: &str| text.contains(&format!(">\n{}\n</text>", s.replace('\'', "&apos;")));
        assert!(text.starts_with("<svg") && shown(&label), "{label}");
        for t in &m.single_tiers {
            assert!(shown(&t.tier), "{}", t.tier);
        }
        // The demo's costs span two decades: a log axis labelled at round costs.
        assert!(f.title.contains("log cost") || text.contains("(log cost)"));
        for tick in ["0.0001", "0.0005", "0.001", "0.01"] {
            assert!(shown(tick), "tick {tick}");
        }
        assert!(!shown("0.000100") && !shown("0.00100"), "{text}");
        // Both hulls are drawn through samples of their segments (straight in linear cost),
        // not as straight lines between vertices on the log axis.
        let blue_points = text
            .lines()
            .filter(|l| l.contains("stroke=\"#1F77B4\" stroke-width=\"3\""))
            .filter_map(|l| l.split("points=\"").nth(1))
            .map(|p| p.split_whitespace().filter(|xy| xy.contains(',')).count())
            .max()
            .unwrap_or(0);
        assert_eq!(blue_points, densify(&f.router_hull).len(), "{text}");

        m.target = "lambda=0.1".into();
        assert_eq!(Figure::of_validation(&m).target, None);

        assert!(Figure::of_validation(&m).title.starts_with("Validation: "));
        m.training
            .members
            .iter_mut()
            .for_each(|x| x.val_prompts = 0);
        let title = Figure::of_validation(&m).title;
        assert!(
            title.starts_with("In sample (no validation split)"),
            "{title}"
        );
    }

    #[test]
    fn an_empty_figure_is_an_error_not_a_panic() {
        let f = Figure {
            title: "empty".into(),
            tiers: vec![],
            router: vec![],
            router_hull: vec![],
            zero_router_hull: vec![],
            oracle: None,
            operating: None,
            target: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let err = draw_figure(&f, &dir.path().join("e.svg")).unwrap_err();
        assert!(err.to_string().contains("nothing to draw"), "{err}");
    }
}
