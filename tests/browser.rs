//! The HTML report and the live `/dashboard` in a real browser: headless
//! Chromium (the distribution's `chromium`, which `.ci/run` installs) opens
//! each page from a file with a fresh profile and no network services, its
//! DOM is dumped after rendering, and every chart must be there with its
//! data (SVG rectangles, lines and labels) and the console silent (the pages
//! carry no script and load nothing, so any console line is a fault). A
//! screenshot of each page is kept under `target/browser/` for people to
//! look at. The dashboard needs a token, which a browser opening a URL
//! cannot send: the test fetches the page with it, then opens the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::run;
use crate::report::{write_log, NOW};
use crate::serve::server::{Backend, Server, Site};

/// Longest a browser run may take before the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary on `PATH`. Under CI (`CI=true`) it must be there:
/// `.ci/run` installs it; elsewhere the test says it did not run.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join(name)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI=true but chromium is not installed: .ci/run installs it"
        );
        eprintln!("chromium is not installed: the browser tests did not run (`apt-get install chromium`)");
    }
    found
}

/// Runs Chromium headless on `page` with `extra` flags; its stdout and stderr.
fn browse(chromium: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().expect("a fresh profile directory");
    let url = format!("file://{}", page.display());
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("chromium can be waited for").is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("chromium's output");
    assert!(output.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&output.stderr));
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Opens `page`, checks the rendered DOM and the console, saves a screenshot as `name.png`.
fn check_in_browser(chromium: &Path, page: &Path, name: &str, charts: usize) {
    let (dom, log) = browse(chromium, page, &["--dump-dom".to_owned()]);
    let console: Vec<&str> =
        log.lines().filter(|line| line.contains(":CONSOLE(") || line.contains("console")).collect();
    assert!(console.is_empty(), "{name}: the console is not silent:\n{}", console.join("\n"));
    assert!(dom.contains("<h1>"), "{name}: the DOM was not dumped: {dom}");
    let svgs: Vec<&str> =
        dom.split("<svg").skip(1).map(|rest| rest.split("</svg>").next().unwrap_or_default()).collect();
    assert!(svgs.len() >= charts, "{name}: {} charts in the rendered page, {charts} expected", svgs.len());
    for (index, svg) in svgs.iter().enumerate() {
        let shapes = svg.matches("<rect").count() + svg.matches("<polyline").count() + svg.matches("<circle").count();
        assert!(shapes >= 2, "{name}: chart {index} draws nothing: {svg}");
        assert!(svg.contains("<text"), "{name}: chart {index} has no label");
    }
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&artifacts).expect("target/browser");
    let screenshot = artifacts.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&screenshot);
    browse(chromium, page, &[format!("--screenshot={}", screenshot.display()), "--window-size=1280,4200".to_owned()]);
    let size = std::fs::metadata(&screenshot).map(|meta| meta.len()).unwrap_or(0);
    assert!(size > 10_000, "{name}: the screenshot {} is missing or blank ({size} bytes)", screenshot.display());
}

#[test]
fn the_html_report_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let (dir, log) = write_log();
    let html = dir.path().join("report.html");
    let (log, html_arg) = (log.to_string_lossy().into_owned(), html.to_string_lossy().into_owned());
    let out = run(&["report", "--log", &log, "--now", NOW, "--since", "60d", "--html", &html_arg], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    check_in_browser(&chromium, &html, "report", 7);
}

#[test]
fn the_dashboard_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let site = Site::new(&Backend::Sqlite);
    let server = Server::start(&site);
    let tickets =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saas-b2b/tickets.jsonl"))
            .expect("the example tickets");
    for (index, ticket) in tickets.lines().filter(|line| !line.trim().is_empty()).enumerate() {
        let decided = server.post("/v1/route", ticket);
        assert_eq!(decided.status, 200, "{}", decided.text);
        let decision = decided.json();
        let Some(ticket_id) = decision["ticket_id"].as_str() else { continue };
        // Every third ticket ends somewhere else after one reassignment.
        let routed = decision["destination"]["name"].as_str().unwrap_or("human_review");
        let final_destination = if index % 3 == 0 { "senior_support" } else { routed };
        let outcome = serde_json::json!({
            "final_destination": final_destination,
            "reassignments": u32::from(index % 3 == 0),
            "resolved": true,
        });
        let recorded = server.post(&format!("/v1/tickets/{ticket_id}/outcome"), &outcome.to_string());
        assert!(recorded.status < 300, "{}", recorded.text);
    }
    let page = server.get("/dashboard");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    let unauthorised = server.request("GET", "/dashboard", None, None, &[]);
    assert_eq!(unauthorised.status, 401, "the dashboard shows tickets: it needs a token");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("dashboard.html");
    std::fs::write(&file, &page.text).expect("the page is saved");
    check_in_browser(&chromium, &file, "dashboard", 5);
}
