//! `curves.svg`: training loss and every evaluation metric against step, drawn from `metrics.jsonl`.
//!
//! Small multiples, one panel per series group: `loss` (the training loss of every logging window,
//! plus each split's evaluation loss where the task has one), then one panel per evaluation metric with
//! one line per split. Evaluations without a step (the loaded model itself) are left out; a step
//! evaluated twice (during training, then in the final pass) keeps the last value. Counts (`total`,
//! `HasAns_total`, ...) and thresholds are not drawn. Plain SVG 1.1, no scripts, no external fonts.
use anyhow::{Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// Draws `<run_dir>/curves.svg` from `<run_dir>/metrics.jsonl`. Runs without training events
/// (eval-only) get no file. Unparseable lines are skipped; only I/O errors are returned.
pub fn write(run_dir: &Path) -> Result<()> {
    let path = run_dir.join("metrics.jsonl");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let panels = panels(&String::from_utf8_lossy(&bytes));
    if panels.is_empty() {
        return Ok(());
    }
    let svg = render(&title(run_dir), &panels);
    super::atomic::write_file(&run_dir.join("curves.svg"), svg.as_bytes())
}

/// The run folder's name, with the task and model type when summary.json names them.
fn title(run_dir: &Path) -> String {
    let name = run_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run_dir.display().to_string());
    let summary: Option<Value> = std::fs::read_to_string(run_dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let field = |k: &str| summary.as_ref().and_then(|s| s.get(k)?.as_str().map(str::to_string));
    match (field("task"), field("model_type")) {
        (Some(task), Some(model)) => format!("{name} — {task}, {model}"),
        _ => name,
    }
}

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text: "train" or a split name.
    pub name: String,
    /// (step, value), sorted by step, finite values only.
    pub points: Vec<(f64, f64)>,
}

/// One small multiple.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
}

/// One evaluation event with a step: its loss (where finite) and drawn metrics.
struct Eval {
    split: String,
    step: f64,
    loss: Option<f64>,
    metrics: Vec<(String, f64)>,
}

/// The panels drawn from the text of metrics.jsonl; empty when it has no training event.
pub fn panels(jsonl: &str) -> Vec<Panel> {
    let mut train: Vec<(f64, f64)> = vec![];
    // Splits and metrics in first-seen order; one evaluation per (split, step), the last one.
    let mut splits: Vec<String> = vec![];
    let mut metric_names: Vec<String> = vec![];
    let mut evals: Vec<Eval> = vec![];
    for line in jsonl.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let step = event.get("step").and_then(Value::as_f64);
        match (event.get("event").and_then(Value::as_str), step) {
            (Some("train"), Some(step)) => {
                if let Some(loss) = event.get("loss").and_then(Value::as_f64).filter(|l| l.is_finite()) {
                    train.push((step, loss));
                }
            }
            (Some("eval"), Some(step)) => {
                let split = event.get("split").and_then(Value::as_str).unwrap_or("eval").to_string();
                let loss = event.get("loss").and_then(Value::as_f64).filter(|l| l.is_finite());
                let mut metrics = vec![];
                if let Some(map) = event.get("metrics").and_then(Value::as_object) {
                    for (k, v) in map {
                        let Some(v) = v.as_f64().filter(|v| v.is_finite()) else {
                            continue;
                        };
                        if !drawn_metric(k) {
                            continue;
                        }
                        if !metric_names.contains(k) {
                            metric_names.push(k.clone());
                        }
                        metrics.push((k.clone(), v));
                    }
                }
                if !splits.contains(&split) {
                    splits.push(split.clone());
                }
                evals.retain(|e| !(e.split == split && e.step == step));
                evals.push(Eval {
                    split,
                    step,
                    loss,
                    metrics,
                });
            }
            _ => {}
        }
    }
    if train.is_empty() {
        return vec![];
    }
    evals.sort_by(|a, b| a.step.total_cmp(&b.step));
    train.sort_by(|a, b| a.0.total_cmp(&b.0));
    let split_series = |value: &dyn Fn(&Eval) -> Option<f64>| {
        splits
            .iter()
            .map(|s| Series {
                name: s.clone(),
                points: evals
                    .iter()
                    .filter(|e| &e.split == s)
                    .filter_map(|e| Some((e.step, value(e)?)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect::<Vec<_>>()
    };
    let mut loss = vec![Series {
        name: "train".to_string(),
        points: train,
    }];
    loss.extend(split_series(&|e| e.loss));
    let mut out = vec![Panel {
        title: "loss".to_string(),
        series: loss,
    }];
    for m in &metric_names {
        let series = split_series(&|e| e.metrics.iter().find(|(k, _)| k == m).map(|(_, v)| *v));
        if !series.is_empty() {
            out.push(Panel {
                title: m.clone(),
                series,
            });
        }
    }
    out
}

/// Whether a metric gets a panel: not the loss (in the loss panel already), counts or thresholds.
fn drawn_metric(name: &str) -> bool {
    name != "loss" && !name.ends_with("total") && !name.ends_with("_thresh")
}

/// Axis ticks: a "nice" step (1, 2 or 5 × 10^k) giving about `target` intervals over [lo, hi], the
/// domain widened to whole steps, and the decimals a tick label needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    pub decimals: usize,
}

impl Ticks {
    pub fn new(lo: f64, hi: f64, target: usize) -> Self {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (0.0, 1.0)
        };
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            lo -= pad;
            hi += pad;
        }
        let raw = (hi - lo) / target.max(1) as f64;
        let exp = raw.log10().floor() as i32;
        let mag = 10f64.powi(exp);
        let norm = raw / mag;
        let mult = match norm {
            n if n < 1.5 => 1.0,
            n if n < 3.0 => 2.0,
            n if n < 7.0 => 5.0,
            _ => 10.0,
        };
        let step = mult * mag;
        let exp = if mult == 10.0 { exp + 1 } else { exp };
        let decimals = (-exp).max(0) as usize;
        // Small tolerance so that 0.30000000000000004 does not open another interval.
        let tol = step * 1e-9;
        Self {
            lo: ((lo + tol) / step).floor() * step,
            hi: ((hi - tol) / step).ceil() * step,
            step,
            decimals,
        }
    }

    /// The tick values, lo to hi.
    pub fn values(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as i64;
        (0..=n).map(|i| self.lo + i as f64 * self.step).collect()
    }

    pub fn label(&self, v: f64) -> String {
        let s = format!("{:.*}", self.decimals, v);
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    }
}

const PANEL_W: f64 = 440.0;
const PANEL_H: f64 = 270.0;
const GAP: f64 = 24.0;
const MARGIN: f64 = 20.0;
const HEADER: f64 = 56.0;
// Plot area inside a panel.
const PLOT_LEFT: f64 = 58.0;
const PLOT_RIGHT: f64 = 14.0;
const PLOT_TOP: f64 = 46.0;
const PLOT_BOTTOM: f64 = 42.0;

/// A colour per series name: train, dev and test keep theirs in every panel.
fn color(name: &str, index: usize) -> &'static str {
    const OTHERS: [&str; 5] = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    match name {
        "train" => "#1f77b4",
        "dev" => "#ff7f0e",
        "test" => "#2ca02c",
        _ => OTHERS[index % OTHERS.len()],
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole SVG document.
pub fn render(title: &str, panels: &[Panel]) -> String {
    let cols = match panels.len() {
        0..=2 => panels.len().max(1),
        3 | 4 => 2,
        _ => 3,
    };
    let rows = panels.len().div_ceil(cols).max(1);
    let width = 2.0 * MARGIN + cols as f64 * PANEL_W + (cols - 1) as f64 * GAP;
    let height = HEADER + MARGIN + rows as f64 * PANEL_H + (rows - 1) as f64 * GAP;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="28" font-size="18" font-weight="bold" fill="#222">{}</text>"##,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="46" font-size="12" fill="#555">x: optimisation step; training loss per logging window, evaluation metrics per split</text>"##
    );
    for (i, panel) in panels.iter().enumerate() {
        let x = MARGIN + (i % cols) as f64 * (PANEL_W + GAP);
        let y = HEADER + (i / cols) as f64 * (PANEL_H + GAP);
        draw_panel(&mut s, panel, x, y);
    }
    s.push_str("</svg>\n");
    s
}

fn draw_panel(s: &mut String, panel: &Panel, x0: f64, y0: f64) {
    let points = || panel.series.iter().flat_map(|se| se.points.iter());
    let (mut xmax, mut ymin, mut ymax) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points() {
        xmax = xmax.max(x);
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    let xt = Ticks::new(0.0, xmax.max(1.0), 5);
    let yt = Ticks::new(ymin, ymax, 5);
    let (left, top) = (x0 + PLOT_LEFT, y0 + PLOT_TOP);
    let (w, h) = (PANEL_W - PLOT_LEFT - PLOT_RIGHT, PANEL_H - PLOT_TOP - PLOT_BOTTOM);
    let sx = |v: f64| left + (v - xt.lo) / (xt.hi - xt.lo) * w;
    let sy = |v: f64| top + h - (v - yt.lo) / (yt.hi - yt.lo) * h;
    let _ = writeln!(s, r#"<g class="panel" data-panel="{}">"#, esc(&panel.title));
    let _ = writeln!(
        s,
        r##"<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#ddd"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="14" font-weight="bold" fill="#222">{}</text>"##,
        x0 + 10.0,
        y0 + 22.0,
        esc(&panel.title)
    );
    // Legend: right-aligned on the title line.
    let mut lx = x0 + PANEL_W - 10.0;
    for (i, se) in panel.series.iter().enumerate().rev() {
        let text_w = 7.0 * se.name.chars().count() as f64;
        lx -= text_w;
        let c = color(&se.name, i);
        let _ = writeln!(
            s,
            r##"<text x="{lx:.1}" y="{:.1}" fill="#222">{}</text>"##,
            y0 + 22.0,
            esc(&se.name)
        );
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="2.5"/>"#,
            lx - 26.0,
            y0 + 18.0,
            lx - 6.0,
            y0 + 18.0
        );
        lx -= 42.0;
    }
    // Grid and tick labels.
    for v in yt.values() {
        let y = sy(v);
        let _ = writeln!(
            s,
            r##"<line x1="{left:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e6e6e6"/>"##,
            left + w
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
            left - 6.0,
            y + 4.0,
            yt.label(v)
        );
    }
    for v in xt.values() {
        let x = sx(v);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e6e6e6"/>"##,
            top + h
        );
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            top + h + 16.0,
            xt.label(v)
        );
    }
    let _ = writeln!(
        s,
        r##"<path d="M{left:.1},{top:.1} V{:.1} H{:.1}" fill="none" stroke="#444"/>"##,
        top + h,
        left + w
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444">step</text>"##,
        left + w / 2.0,
        top + h + 33.0
    );
    for (i, se) in panel.series.iter().enumerate() {
        let c = color(&se.name, i);
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline class="series" data-series="{}" points="{}" fill="none" stroke="{c}" stroke-width="2" stroke-linejoin="round"/>"#,
            esc(&se.name),
            pts.join(" ")
        );
        if se.points.len() <= 60 {
            for &(x, y) in &se.points {
                let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/>"#, sx(x), sy(y));
            }
        }
    }
    s.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let t = Ticks::new(0.0, 95.0, 5);
        assert_eq!((t.lo, t.hi, t.step, t.decimals), (0.0, 100.0, 20.0, 0));
        assert_eq!(t.values(), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = Ticks::new(0.5, 0.98, 5);
        assert_eq!((t.step, t.decimals), (0.1, 1));
        assert!((t.lo - 0.5).abs() < 1e-12 && (t.hi - 1.0).abs() < 1e-12);
        assert_eq!(t.label(t.values()[2]), "0.7");
        let t = Ticks::new(0.057, 0.699, 5);
        assert_eq!((t.step, t.decimals), (0.1, 1));
        assert_eq!(t.label(t.lo), "0.0");
        // A flat series gets a visible range around its value.
        let t = Ticks::new(0.98, 0.98, 5);
        assert!(t.lo < 0.98 && t.hi > 0.98 && t.decimals == 2, "{t:?}");
        let t = Ticks::new(3.0, 8.0, 5);
        assert_eq!((t.lo, t.hi, t.step), (3.0, 8.0, 1.0));
    }

    #[test]
    fn panels_from_events() {
        let jsonl = r#"{"event":"features","split":"train","rows":6}
{"event":"train","step":10,"loss":0.7}
{"event":"eval","step":10,"split":"dev","loss":0.6,"metrics":{"loss":0.6,"f1":0.2,"total":5}}
{"event":"train","step":20,"loss":0.5}
not json
{"event":"eval","step":20,"split":"dev","loss":null,"metrics":{"f1":0.4}}
{"event":"eval","step":20,"split":"test","loss":0.4,"metrics":{"f1":0.3}}
{"event":"eval","step":10,"split":"dev","loss":0.6,"metrics":{"f1":0.25}}
{"event":"eval","step":null,"split":"test","loss":0.1,"metrics":{"f1":0.9}}"#;
        let p = panels(jsonl);
        let titles: Vec<&str> = p.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["loss", "f1"]);
        assert_eq!(p[0].series[0].points, [(10.0, 0.7), (20.0, 0.5)]);
        assert_eq!(p[0].series[1].points, [(10.0, 0.6)]);
        assert_eq!(p[0].series[2].points, [(20.0, 0.4)]);
        assert_eq!(p[1].series[0].points, [(10.0, 0.25), (20.0, 0.4)]);
        assert_eq!(p[1].series[1].points, [(20.0, 0.3)]);
        assert!(panels(r#"{"event":"eval","step":3,"split":"test","loss":1,"metrics":{}}"#).is_empty());
        let svg = render("run <x>", &p);
        assert!(svg.starts_with("<svg") && svg.contains("run &lt;x&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 5);
    }
}
