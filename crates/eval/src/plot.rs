//! `curve.svg`: cost (x) against quality (y): single tiers as labelled points, the zero-router
//! hull, the router's λ sweep with its hull and operating point, and the oracle. The x axis is
//! logarithmic when costs span more than an order of magnitude.
use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::markdown::num;
use crate::report::Report;

const SIZE: (u32, u32) = (960, 640);

/// Draw the report's curves into an SVG file.
pub fn draw(r: &Report, path: &Path) -> Result<()> {
    let fail = |e: String| Error::Plot {
        file: path.display().to_string(),
        reason: e,
    };
    let c = &r.curves;
    let xs: Vec<f64> = c
        .tiers
        .iter()
        .map(|t| t.cost)
        .chain(c.router.iter().map(|p| p.1))
        .chain([c.oracle.0, r.operating_point.realised_cost])
        .collect();
    let ys: Vec<f64> = c
        .tiers
        .iter()
        .map(|t| t.quality)
        .chain(c.router.iter().map(|p| p.2))
        .chain([c.oracle.1, r.operating_point.realised_quality])
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
    let ypad = ((y1 - y0) * 0.08).max(0.02);
    let y = (y0 - ypad).max(0.0)..(y1 + ypad).min(1.0 + ypad);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    if x0 > 0.0 && x1 / x0 >= 10.0 {
        chart(&root, (x0 / 1.4..x1 * 1.4).log_scale(), y, r, true).map_err(fail)?;
    } else {
        let pad = ((x1 - x0) * 0.08).max(x1.abs() * 0.05).max(1e-9);
        chart(&root, (x0 - pad).max(0.0)..x1 + pad, y, r, false).map_err(fail)?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

fn chart<XS>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    x: XS,
    y: Range<f64>,
    r: &Report,
    log: bool,
) -> std::result::Result<(), String>
where
    XS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let c = &r.curves;
    let title = format!(
        "Cost vs quality on {} held-out prompts{}",
        r.prompts.used,
        if log { " (log cost)" } else { "" }
    );
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
        .x_label_formatter(&|v| num(*v))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(e)?;
    let grey = RGBColor(120, 120, 120);
    let blue = RGBColor(31, 119, 180);
    let red = RGBColor(214, 39, 40);
    let green = RGBColor(44, 160, 44);
    let hull = densify(&c.zero_router_hull);
    ch.draw_series(DashedLineSeries::new(hull, 6, 4, grey.stroke_width(2)))
        .map_err(e)?
        .label("zero router (mix of tiers)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
    ch.draw_series(
        c.router
            .iter()
            .map(|&(_, x, y)| Circle::new((x, y), 2, blue.mix(0.5).filled())),
    )
    .map_err(e)?;
    ch.draw_series(LineSeries::new(c.router_hull.clone(), blue.stroke_width(3)))
        .map_err(e)?
        .label("router (λ sweep, hull)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(3)));
    ch.draw_series(c.tiers.iter().map(|t| {
        EmptyElement::at((t.cost, t.quality))
            + Circle::new((0, 0), 5, BLACK.filled())
            + Text::new(t.name.clone(), (7, -16), ("sans-serif", 13).into_font())
    }))
    .map_err(e)?
    .label("single tiers")
    .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
    let o = c.oracle;
    ch.draw_series(std::iter::once(
        EmptyElement::at(o)
            + Cross::new((0, 0), 7, green.stroke_width(3))
            + Text::new("oracle", (9, -16), ("sans-serif", 13).into_font()),
    ))
    .map_err(e)?
    .label("oracle")
    .legend(move |(x, y)| Cross::new((x + 10, y), 6, green.stroke_width(3)));
    let op = &r.operating_point;
    let label = match op.lambda {
        Some(l) => format!("router @ λ={}", num(l)),
        None => "router decisions".into(),
    };
    ch.draw_series(std::iter::once(
        EmptyElement::at((op.realised_cost, op.realised_quality))
            + TriangleMarker::new((0, 0), 9, red.filled())
            + Text::new(label, (10, 6), ("sans-serif", 13).into_font()),
    ))
    .map_err(e)?
    .label("router operating point")
    .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, red.filled()));
    ch.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(grey)
        .label_font(("sans-serif", 14))
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
