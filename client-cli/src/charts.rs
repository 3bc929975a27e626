//! Bar charts as inline SVG, rendered on the workstation for the office app's statistics:
//! no script, no external resource, nothing the page's Content-Security-Policy forbids
//! (presentation attributes only, no `style`).
//!
//! A count published as "fewer than 5" ([`crate::register::Count`]) gets no bar, only its
//! label: a bar's height would tell the number the label hides.

use maud::{html, Markup};

use crate::register::Count;

const WIDTH: u32 = 640;
const BAR_AREA_HEIGHT: u32 = 160;
const LABEL_HEIGHT: u32 = 48;
const TOP: u32 = 20;

/// A bar chart titled `title` (its accessible name), one bar per `(label, count)`.
pub fn bar_chart(id: &str, title: &str, bars: &[(String, Count)]) -> Markup {
    let highest = bars
        .iter()
        .filter(|(_, count)| count.is_shown())
        .filter_map(|(_, count)| count.value())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / u32::try_from(bars.len().max(1)).unwrap_or(u32::MAX).max(1);
    let bar_width = (slot * 2 / 3).clamp(4, 80);
    let height = TOP + BAR_AREA_HEIGHT + LABEL_HEIGHT;
    let title_id = format!("{id}-title");
    html! {
        figure class="chart" {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(title_id)
                viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height) {
                title id=(title_id) { (title) }
                line x1="0" y1=(TOP + BAR_AREA_HEIGHT) x2=(WIDTH) y2=(TOP + BAR_AREA_HEIGHT) stroke="#0b0c0c" stroke-width="1" {}
                @for (index, (label, count)) in bars.iter().enumerate() {
                    @let x = u32::try_from(index).unwrap_or(0).saturating_mul(slot) + slot.saturating_sub(bar_width) / 2;
                    @let centre = x + bar_width / 2;
                    @if let Some(value) = count.value().filter(|value| *value > 0) {
                        @let bar = (value * BAR_AREA_HEIGHT / highest).max(1);
                        rect x=(x) y=(TOP + BAR_AREA_HEIGHT - bar) width=(bar_width) height=(bar) fill="#1d70b8" {}
                        text x=(centre) y=(TOP + BAR_AREA_HEIGHT - bar - 4) text-anchor="middle" font-size="12" fill="#0b0c0c" { (value) }
                    } @else {
                        text x=(centre) y=(TOP + BAR_AREA_HEIGHT - 4) text-anchor="middle" font-size="12" fill="#505a5f" {
                            @match count { Count::Exact(_) => { "0" } Count::FewerThanFive => { "<5" } Count::Withheld => { "–" } }
                        }
                    }
                    text x=(centre) y=(TOP + BAR_AREA_HEIGHT + 16) text-anchor="middle" font-size="12" fill="#0b0c0c" {
                        (shortened(label))
                    }
                }
            }
        }
    }
}

/// A label cut to fit under its bar (the full one is in the table beside the chart).
fn shortened(label: &str) -> String {
    let characters: Vec<char> = label.chars().collect();
    if characters.len() <= 14 {
        label.to_owned()
    } else {
        format!("{}…", characters[..13].iter().collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_count_draws_no_bar_and_text_is_escaped() {
        let svg = bar_chart(
            "c",
            "Per month",
            &[
                ("2026-01".into(), Count::of(12)),
                ("2026-02".into(), Count::of(3)),
                ("<script>".into(), Count::of(6)),
            ],
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("&lt;5"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("role=\"img\""));
    }
}
