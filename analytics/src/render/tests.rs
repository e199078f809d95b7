//! The three renderings of one document that uses every kind of block and
//! chart: JSON and terminal text as reviewed snapshots, the HTML page
//! checked for what a reader and a browser need (self-contained, escaped,
//! one SVG per chart with its data drawn).

use super::*;

/// A document with every block and chart kind, and text that needs escaping.
fn sample() -> Document {
    let mut volume = Table::new("volume_by_intent")
        .with_title("Tickets per intent")
        .with_column("intent", "intent", Unit::Text)
        .with_column("tickets", "tickets", Unit::Count)
        .with_column("misroute_rate", "misrouted", Unit::Ratio)
        .with_column("resolution", "median resolution", Unit::Seconds)
        .with_note("sorted by volume");
    volume.push_row(vec!["billing".into(), 1_204u64.into(), 0.081_f64.into(), 5_400_f64.into()]);
    volume.push_row(vec!["bug_report".into(), 877u64.into(), 0.214_f64.into(), 93_600_f64.into()]);
    volume.push_row(vec!["<script>alert(1)</script>".into(), 3u64.into(), Cell::Empty]);

    let mut arrivals = [[0u64; 24]; 7];
    for (day, hours) in arrivals.iter_mut().enumerate() {
        for (hour, count) in hours.iter_mut().enumerate() {
            if (8..18).contains(&hour) && day < 5 {
                *count = (10 + hour * 3 + day) as u64;
            } else if hour % 5 == 0 {
                *count = 1;
            }
        }
    }
    let weeks: Vec<String> = (1..=8).map(|week| format!("2026-W{week:02}")).collect();
    let billing = Series {
        name: "billing".into(),
        values: vec![Some(120.0), Some(131.0), Some(118.0), Some(125.0), None, Some(122.0), Some(127.0), Some(129.0)],
    };
    let outage = Series {
        name: "bug_report".into(),
        values: vec![Some(80.0), Some(85.0), Some(79.0), Some(82.0), Some(240.0), Some(90.0), Some(84.0), Some(81.0)],
    };

    Document::new("routec report")
        .with_subtitle("decision log sqlite:routec.db · 2026-01-05 → 2026-03-01 · 2,084 decisions")
        .with_section(
            Section::new("summary", "Summary")
                .with_figures(vec![
                    Figure::new("decisions", "decisions", 2_084u64, Unit::Count),
                    Figure::new("misroute_rate", "misroute rate", 0.1234_f64, Unit::Ratio).with_note("of 1,911 resolved"),
                    Figure::new("first_assignment", "median time to first assignment", 754_f64, Unit::Seconds),
                    Figure::new("unknown", "classifier accuracy at close", Cell::Empty, Unit::Ratio)
                        .with_note("no outcome carries an intent"),
                ])
                .with_text("A ticket is misrouted when its final destination differs from routec's & the helpdesk's <first> one."),
        )
        .with_section(
            Section::new("volume", "Volume")
                .with_table(volume)
                .with_chart(Chart::bar(
                    "volume_bars",
                    "Tickets per intent",
                    Unit::Count,
                    vec![Bar::new("billing", 1_204.0), Bar::new("bug_report", 877.0).highlighted(true), Bar::new("other", 0.0)],
                ))
                .with_chart(
                    Chart::hour_of_week("arrivals", "Arrivals by hour of week", &arrivals).with_note("hours in UTC"),
                ),
        )
        .with_section(
            Section::new("trend", "Weekly volume").with_chart(
                Chart::line("weekly", "Tickets per week", Unit::Count, weeks, vec![billing, outage])
                    .with_marks(vec![Mark { series: 1, index: 4, label: "spike: 2.9× the usual".into() }]),
            ),
        )
        .with_section(Section::new("agreement", "Agreement").with_chart(Chart::confusion(
            "confusion",
            "routec's destination against the final one",
            "final destination",
            "routec's destination",
            vec!["billing".into(), "engineering".into(), "success".into()],
            vec![vec![50, 3, 1], vec![4, 30, 0], vec![0, 2, 12]],
        )))
}

#[test]
fn json_is_the_model() -> Result<(), RenderError> {
    insta::assert_snapshot!(sample().to_json()?);
    Ok(())
}

#[test]
fn terminal_text() {
    insta::assert_snapshot!(sample().to_terminal(100));
}

#[test]
fn terminal_text_is_never_narrower_than_the_minimum() {
    let text = sample().to_terminal(10);
    let rule = text.lines().find(|line| line.starts_with("── Summary")).unwrap_or_default();
    assert_eq!(rule.chars().count(), 60, "{text}");
}

#[test]
fn html_is_self_contained_and_escaped() -> Result<(), RenderError> {
    let page = sample().to_html(&HtmlOptions::default())?;
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    // Nothing to fetch: no script, no external stylesheet, image or font.
    for forbidden in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!page.contains(forbidden), "the page contains `{forbidden}`");
    }
    // The only URL is the SVG namespace.
    let urls = page.matches("http://").count() + page.matches("https://").count();
    assert_eq!(urls, page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("routec&#39;s &amp; the helpdesk&#39;s &lt;first&gt; one."));
    assert!(!page.contains("http-equiv=\"refresh\""));
    Ok(())
}

#[test]
fn html_has_one_svg_per_chart_with_its_data_drawn() -> Result<(), RenderError> {
    let page = sample().to_html(&HtmlOptions::default())?;
    assert_eq!(page.matches("<svg").count(), 4);
    assert_eq!(page.matches("<figure").count(), 4);
    let chart = |key: &str| figure(&page, key);
    // Bars: one rectangle per bar plus the background; labels and values as text.
    let bars = chart("volume_bars");
    assert!(bars.matches("<rect").count() >= 4, "{bars}");
    assert!(bars.contains("\nbug_report\n</text>"), "{bars}");
    assert!(bars.contains("1,204"));
    // Heat map: 7 × 24 cells plus the legend ramp.
    assert!(chart("arrivals").matches("<rect").count() >= 7 * 24 + 10);
    // Lines: a polyline per run (the gap splits billing in two) and the marked spike.
    let weekly = chart("weekly");
    assert!(weekly.matches("<polyline").count() >= 3, "{weekly}");
    assert!(weekly.contains("spike: 2.9× the usual"));
    assert!(weekly.contains("2026-W01"));
    // Confusion: every non-zero count written in its cell.
    let confusion = chart("confusion");
    for count in ["50", "30", "12", "4"] {
        assert!(confusion.contains(&format!("\n{count}\n</text>")), "count {count} missing");
    }
    Ok(())
}

/// The `<figure>` of the chart with this key.
fn figure<'p>(page: &'p str, key: &str) -> &'p str {
    let start = page.find(&format!("data-key=\"{key}\" data-chart")).unwrap_or(0);
    let end = page[start..].find("</figure>").map_or(page.len(), |end| start + end);
    &page[start..end]
}

#[test]
fn refresh_and_footer_are_optional() -> Result<(), RenderError> {
    let options = HtmlOptions { refresh_seconds: Some(60), footer: Some("routec serve · 12:00 UTC".into()) };
    let page = sample().to_html(&options)?;
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    assert!(page.contains("<footer>routec serve · 12:00 UTC</footer>"));
    Ok(())
}

#[test]
fn empty_charts_render_everywhere() -> Result<(), RenderError> {
    let document = Document::new("empty").with_section(
        Section::new("nothing", "Nothing")
            .with_chart(Chart::bar("bars", "no bars", Unit::Count, Vec::new()))
            .with_chart(Chart::line("lines", "no lines", Unit::Ratio, Vec::new(), Vec::new()))
            .with_chart(Chart::hour_of_week("arrivals", "no arrivals", &[[0; 24]; 7]))
            .with_chart(Chart::confusion("confusion", "no labels", "a", "b", Vec::new(), Vec::new()))
            .with_table(Table::new("table").with_column("a", "a", Unit::Text)),
    );
    let text = document.to_terminal(80);
    assert!(text.contains("(no data)"));
    assert!(text.contains("(none)"));
    let page = document.to_html(&HtmlOptions::default())?;
    assert_eq!(page.matches("<svg").count(), 4);
    Ok(())
}

#[test]
fn non_finite_numbers_are_empty_cells() -> Result<(), RenderError> {
    assert_eq!(Cell::from(f64::NAN), Cell::Empty);
    assert_eq!(Cell::from(f64::INFINITY), Cell::Empty);
    assert_eq!(Cell::from(None::<u64>), Cell::Empty);
    assert_eq!(Cell::from(u64::MAX), Cell::Empty);
    let figure = Figure::new("x", "x", f64::NAN, Unit::Ratio);
    assert_eq!(serde_json::to_value(&figure)?["value"], serde_json::Value::Null);
    Ok(())
}
