//! Bar charts as inline SVG (plotters' SVG backend, no font files: labels are `<text>`
//! elements the viewer draws with its own fonts).

use plotters::prelude::*;

use crate::ReportError;

/// Colours of the statuses, in [`shuan_comply::Status::ALL`] order.
pub const STATUS_COLOURS: [RGBColor; 5] = [
    RGBColor(46, 125, 50),
    RGBColor(249, 168, 37),
    RGBColor(198, 40, 40),
    RGBColor(117, 117, 117),
    RGBColor(21, 101, 192),
];

const DEFAULT_BAR: RGBColor = RGBColor(21, 101, 192);

/// A vertical bar chart of `bars` (label, value, colour) as an SVG document.
pub fn bar_chart(
    name: &'static str,
    title: &str,
    y_label: &str,
    bars: &[(String, u64, Option<RGBColor>)],
) -> Result<String, ReportError> {
    let err = |e: &dyn std::fmt::Display| ReportError::Chart {
        chart: name,
        message: e.to_string(),
    };
    let n = bars.len().max(1);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0);
    // Headroom above the tallest bar, and a visible axis when every value is 0.
    let top = (max + max / 8).max(max + 1);
    let width = (120 + 70 * n as u32).clamp(420, 900);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((0..n).into_segmented(), 0u64..top)
            .map_err(|e| err(&e))?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let formatter = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&formatter)
            .y_desc(y_label)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v, colour))| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    colour.unwrap_or(DEFAULT_BAR).filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            }))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v, _))| {
                Text::new(
                    v.to_string(),
                    (SegmentValue::CenterOf(i), *v),
                    ("sans-serif", 13).into_font(),
                )
            }))
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}
