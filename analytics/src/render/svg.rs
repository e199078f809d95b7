//! Charts as SVG, drawn with plotters' SVG backend into a string: bars,
//! lines over time (plotters' cartesian chart, mesh and legend), heat maps
//! and confusion matrices (cells laid out here in pixels). The SVG carries
//! its own `viewBox`, so the HTML page scales it; text is plain `<text>`
//! (plotters escapes it), drawn in the reader's sans-serif font.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::format_number;
use super::{Bar, Chart, Mark, Plot, RenderError, Series, Unit};

/// Width of every chart, in SVG pixels (the page scales it down).
const WIDTH: u32 = 760;
/// Average width of a 12 px sans-serif character, for laying out labels.
const CHAR_PX: u32 = 7;

const INK: RGBColor = RGBColor(33, 37, 41);
const MUTED: RGBColor = RGBColor(108, 117, 125);
const GRID: RGBColor = RGBColor(222, 226, 230);
const BAR: RGBColor = RGBColor(59, 110, 165);
const WARN: RGBColor = RGBColor(214, 96, 39);
const PAPER: RGBColor = RGBColor(255, 255, 255);
const EMPTY_CELL: RGBColor = RGBColor(248, 249, 250);
const SERIES: [RGBColor; 6] = [
    RGBColor(59, 110, 165),
    RGBColor(230, 126, 34),
    RGBColor(46, 139, 87),
    RGBColor(192, 57, 43),
    RGBColor(142, 68, 173),
    RGBColor(121, 85, 72),
];

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The chart as an `<svg>` element.
pub(super) fn chart_svg(chart: &Chart) -> Result<String, RenderError> {
    let failed =
        |error: &dyn std::fmt::Display| RenderError::Chart { chart: chart.key.clone(), message: error.to_string() };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size(&chart.plot)).into_drawing_area();
        root.fill(&PAPER).map_err(|error| failed(&error))?;
        let drawn = match &chart.plot {
            Plot::Bar { unit, bars } => draw_bars(&root, bars, *unit),
            Plot::Line { unit, x, series, marks } => draw_lines(&root, x, series, marks, *unit),
            Plot::Heatmap { unit, x, y, values, .. } => draw_heatmap(&root, x, y, values, *unit),
            Plot::Confusion { actual_title, predicted_title, labels, counts } => {
                draw_confusion(&root, (actual_title.as_str(), predicted_title.as_str()), labels, counts)
            }
        };
        drawn.map_err(|error| failed(&error))?;
        root.present().map_err(|error| failed(&error))?;
    }
    Ok(svg)
}

/// Longest label, in characters.
fn longest(labels: impl Iterator<Item = usize>) -> u32 {
    u32::try_from(labels.max().unwrap_or(0)).unwrap_or(u32::MAX)
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Left margin wide enough for labels of `chars` characters, within bounds.
fn label_margin(chars: u32) -> u32 {
    (chars.saturating_mul(CHAR_PX) + 16).clamp(48, 220)
}

/// Side of one confusion-matrix cell for `n` labels.
fn confusion_cell(n: u32, left: u32) -> u32 {
    (WIDTH.saturating_sub(left + 24) / n.max(1)).clamp(28, 64)
}

fn size(plot: &Plot) -> (u32, u32) {
    match plot {
        Plot::Bar { bars, .. } => (WIDTH, (20 + count_u32(bars.len()).saturating_mul(24)).max(60)),
        Plot::Line { .. } => (WIDTH, 320),
        Plot::Heatmap { y, .. } => (WIDTH, 30 + count_u32(y.len()).saturating_mul(22) + 44),
        Plot::Confusion { labels, .. } => {
            let chars = longest(labels.iter().map(|label| label.chars().count()));
            let (left, top) = (label_margin(chars), label_margin(chars).min(160));
            let cell = confusion_cell(count_u32(labels.len()), left);
            (WIDTH, top + count_u32(labels.len()).saturating_mul(cell) + 40)
        }
    }
}

fn px(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn font(size: f64, color: &'static RGBColor, h_pos: HPos) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(color).pos(Pos::new(h_pos, VPos::Center))
}

/// `from` → `to` by `t` in [0, 1].
fn blend(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

fn finite(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, bars: &[Bar], unit: Unit) -> Drawn<DB> {
    if bars.is_empty() {
        return root.draw(&Text::new("no data", (16, 30), font(13.0, &MUTED, HPos::Left)));
    }
    let left = label_margin(longest(bars.iter().map(|bar| bar.label.chars().count())));
    let room = WIDTH.saturating_sub(left + 96);
    let max = bars.iter().map(|bar| finite(bar.value)).fold(0.0, f64::max);
    for (index, bar) in bars.iter().enumerate() {
        let top = 10 + px(count_u32(index)) * 24;
        let middle = top + 12;
        let fraction = if max > 0.0 { finite(bar.value).max(0.0) / max } else { 0.0 };
        let end = px(left) + (fraction * f64::from(room)).round() as i32;
        let color = if bar.highlight { WARN } else { BAR };
        root.draw(&Rectangle::new([(px(left), top + 4), (end.max(px(left) + 1), top + 20)], color.filled()))?;
        let label = shorten(&bar.label, ((left - 16) / CHAR_PX) as usize);
        root.draw(&Text::new(label, (px(left) - 8, middle), font(12.0 * 1.24, &INK, HPos::Right)))?;
        let value = format_number(bar.value, unit);
        root.draw(&Text::new(value, (end + 6, middle), font(12.0 * 1.24, &MUTED, HPos::Left)))?;
    }
    let bottom = 10 + px(count_u32(bars.len())) * 24;
    root.draw(&PathElement::new(vec![(px(left), 8), (px(left), bottom + 2)], MUTED.stroke_width(1)))
}

/// Cuts a label to `max` characters with `…`.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max.max(2) {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.max(2) - 1).collect();
    kept.push('…');
    kept
}

/// Runs of consecutive present values as chart points (a gap splits a line).
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(value) if value.is_finite() => current.push((index as f64, *value)),
            _ => {
                if !current.is_empty() {
                    runs.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: &[String],
    series: &[Series],
    marks: &[Mark],
    unit: Unit,
) -> Drawn<DB> {
    let present = || series.iter().flat_map(|serie| serie.values.iter().flatten().copied()).filter(|v| v.is_finite());
    let high = present().fold(0.0, f64::max);
    let low = present().fold(0.0, f64::min);
    let high = if high > low { high + (high - low) * 0.08 } else { low + 1.0 };
    let x_max = (x.len().saturating_sub(1)).max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.02 * x_max..x_max * 1.02, low..high)?;
    let x_label = |value: &f64| {
        let nearest = value.round();
        if (value - nearest).abs() < 1e-6 && nearest >= 0.0 {
            x.get(nearest as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let y_label = |value: &f64| format_number(*value, unit);
    chart
        .configure_mesh()
        .x_labels(x.len().clamp(2, 10))
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(PAPER.stroke_width(0))
        .axis_style(MUTED.stroke_width(1))
        .label_style(("sans-serif", 12.0 * 1.24).into_font().color(&MUTED))
        .draw()?;
    for (number, serie) in series.iter().enumerate() {
        let color = SERIES[number % SERIES.len()];
        for (run_number, run) in runs(&serie.values).into_iter().enumerate() {
            let line = chart.draw_series(LineSeries::new(run.clone(), color.stroke_width(2)))?;
            if run_number == 0 {
                line.label(serie.name.clone())
                    .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], color.stroke_width(3)));
            }
            chart.draw_series(run.into_iter().map(|point| Circle::new(point, 2, color.filled())))?;
        }
    }
    for mark in marks {
        let value = series.get(mark.series).and_then(|serie| serie.values.get(mark.index)).copied().flatten();
        if let Some(value) = value.filter(|value| value.is_finite()) {
            let point = (mark.index as f64, value);
            chart.draw_series(std::iter::once(Circle::new(point, 6, WARN.stroke_width(2))))?;
            let style = ("sans-serif", 11.0 * 1.24).into_font().color(&WARN).pos(Pos::new(HPos::Center, VPos::Bottom));
            let label = shorten(&mark.label, 28);
            chart.draw_series(std::iter::once(Text::new(label, point, style)))?;
        }
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(PAPER.mix(0.85).filled())
            .border_style(GRID.stroke_width(1))
            .label_font(("sans-serif", 12.0 * 1.24).into_font().color(&INK))
            .draw()?;
    }
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: &[String],
    y: &[String],
    values: &[Vec<f64>],
    unit: Unit,
) -> Drawn<DB> {
    const LOW: RGBColor = RGBColor(222, 235, 247);
    const HIGH: RGBColor = RGBColor(8, 69, 148);
    let left = label_margin(longest(y.iter().map(|label| label.chars().count())));
    let columns = count_u32(x.len()).max(1);
    let cell_w = (WIDTH.saturating_sub(left + 16) / columns).max(6);
    let (top, cell_h) = (30u32, 22u32);
    let max = values.iter().flatten().copied().filter(|value| value.is_finite()).fold(0.0, f64::max);
    let label_chars = longest(x.iter().map(|label| label.chars().count())).max(1);
    let step = (label_chars * CHAR_PX + 6).div_ceil(cell_w).max(1) as usize;
    for (column, label) in x.iter().enumerate().step_by(step) {
        let center = px(left + count_u32(column) * cell_w + cell_w / 2);
        root.draw(&Text::new(label.clone(), (center, px(top) - 10), font(11.0 * 1.24, &MUTED, HPos::Center)))?;
    }
    for (row, label) in y.iter().enumerate() {
        let y0 = px(top + count_u32(row) * cell_h);
        root.draw(&Text::new(
            label.clone(),
            (px(left) - 8, y0 + px(cell_h) / 2),
            font(12.0 * 1.24, &INK, HPos::Right),
        ))?;
        for column in 0..x.len() {
            let value = values.get(row).and_then(|r| r.get(column)).copied().unwrap_or(0.0);
            let color = if value.is_finite() && value > 0.0 && max > 0.0 {
                blend(LOW, HIGH, (value / max).sqrt())
            } else {
                EMPTY_CELL
            };
            let x0 = px(left + count_u32(column) * cell_w);
            root.draw(&Rectangle::new([(x0, y0), (x0 + px(cell_w) - 1, y0 + px(cell_h) - 1)], color.filled()))?;
        }
    }
    // Legend: the colour ramp from zero to the busiest cell.
    let legend_top = px(top + count_u32(y.len()) * cell_h) + 14;
    let ramp_left = px(left);
    for shade in 0i32..10 {
        let color = blend(LOW, HIGH, (f64::from(shade) / 9.0).sqrt());
        let x0 = ramp_left + 60 + shade * 18;
        root.draw(&Rectangle::new([(x0, legend_top), (x0 + 17, legend_top + 12)], color.filled()))?;
    }
    root.draw(&Text::new("fewer", (ramp_left + 54, legend_top + 6), font(11.0 * 1.24, &MUTED, HPos::Right)))?;
    let busiest = format!("busiest: {}", format_number(max, unit));
    root.draw(&Text::new(
        busiest,
        (ramp_left + 60 + 10 * 18 + 8, legend_top + 6),
        font(11.0 * 1.24, &MUTED, HPos::Left),
    ))
}

fn draw_confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (actual_title, predicted_title): (&str, &str),
    labels: &[String],
    counts: &[Vec<u64>],
) -> Drawn<DB> {
    const HIT_LOW: RGBColor = RGBColor(229, 245, 224);
    const HIT_HIGH: RGBColor = RGBColor(35, 139, 69);
    const MISS_LOW: RGBColor = RGBColor(254, 229, 217);
    const MISS_HIGH: RGBColor = RGBColor(203, 24, 29);
    let chars = longest(labels.iter().map(|label| label.chars().count()));
    let (left, top) = (label_margin(chars), label_margin(chars).min(160));
    let n = count_u32(labels.len());
    let cell = confusion_cell(n, left);
    let label_room = ((top - 16) / CHAR_PX) as usize;
    for (index, label) in labels.iter().enumerate() {
        let offset = px(count_u32(index) * cell + cell / 2);
        root.draw(&Text::new(
            shorten(label, ((left - 16) / CHAR_PX) as usize),
            (px(left) - 8, px(top) + offset),
            font(12.0 * 1.24, &INK, HPos::Right),
        ))?;
        let column_style = font(12.0 * 1.24, &INK, HPos::Left).transform(FontTransform::Rotate270);
        root.draw(&Text::new(shorten(label, label_room), (px(left) + offset, px(top) - 8), column_style))?;
    }
    for row in 0..labels.len() {
        let row_counts = counts.get(row).map_or(&[][..], Vec::as_slice);
        let row_total: u64 = row_counts.iter().sum();
        for column in 0..labels.len() {
            let count = row_counts.get(column).copied().unwrap_or(0);
            let share = if row_total > 0 { count as f64 / row_total as f64 } else { 0.0 };
            let color = match (count, row == column) {
                (0, _) => EMPTY_CELL,
                (_, true) => blend(HIT_LOW, HIT_HIGH, share),
                (_, false) => blend(MISS_LOW, MISS_HIGH, share.sqrt()),
            };
            let x0 = px(left + count_u32(column) * cell);
            let y0 = px(top + count_u32(row) * cell);
            root.draw(&Rectangle::new([(x0, y0), (x0 + px(cell) - 2, y0 + px(cell) - 2)], color.filled()))?;
            if count > 0 {
                let ink: &'static RGBColor = if share > 0.5 { &PAPER } else { &INK };
                let center = (x0 + px(cell) / 2 - 1, y0 + px(cell) / 2 - 1);
                root.draw(&Text::new(count.to_string(), center, font(11.0 * 1.24, ink, HPos::Center)))?;
            }
        }
    }
    let legend = format!("rows: {actual_title} · columns: {predicted_title} · green: agree · red: disagree");
    let legend_y = px(top + n * cell) + 20;
    root.draw(&Text::new(legend, (px(left), legend_y), font(11.0 * 1.24, &MUTED, HPos::Left)))
}
