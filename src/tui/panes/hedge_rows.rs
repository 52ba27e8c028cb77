//! Hedge rows (DESIGN §15): a leg started (`hedge_started`) or given up (`hedge_cancelled`),
//! nested under their attempt in the Timeline, with what the Inspector says of them.

use super::Ctx;
use crate::tui::run_view::{HedgeRow, HedgeWhat};
use crate::tui::theme::{Meaning, Theme};
use ratatui::text::{Line, Span};

/// The Timeline's line: `⑂ leg 2 → provider/model` or `⊘ leg 1 cancelled: why`.
pub(super) fn line(h: &HedgeRow, ctx: &Ctx, width: usize) -> Line<'static> {
    let st = |m| ctx.theme.style(m);
    let spans = match &h.what {
        HedgeWhat::Started { target } => vec![
            Span::raw("  "),
            Span::styled(format!("⑂ hedge leg {}", h.leg), st(Meaning::Running)),
            Span::styled(format!(" → {target}"), st(Meaning::Muted)),
        ],
        HedgeWhat::Cancelled { why, .. } => vec![
            Span::raw("  "),
            Span::styled(format!("⊘ leg {} given up", h.leg), st(Meaning::Muted)),
            Span::styled(format!(": {why}"), st(Meaning::Muted)),
        ],
    };
    super::timeline::fit_spans(spans, width)
}

/// The Inspector's lines.
pub(super) fn details(h: &HedgeRow, theme: &Theme, out: &mut Vec<Line<'static>>) {
    use super::inspector::{field, heading};
    let text = theme.style(Meaning::Text);
    let at = crate::policy::duration::format_secs(h.t_ms as f64 / 1000.0);
    match &h.what {
        HedgeWhat::Started { target } => {
            let title = format!("Hedge: leg {} of attempt #{}", h.leg, h.attempt);
            out.push(heading(&title, theme));
            out.push(field("to", target.clone(), theme, text));
            out.push(field("at", at, theme, text));
            out.push(Line::from(Span::styled(
                "The attempt's earlier requests had not answered after [hedge].after: another \
                 request went out. The first to answer wins (a stream: the first to send text); \
                 the others are cancelled.",
                theme.style(Meaning::Muted),
            )));
        }
        HedgeWhat::Cancelled {
            why,
            cost_usd,
            cost_estimated,
        } => {
            let title = format!("Hedge: leg {} of attempt #{} given up", h.leg, h.attempt);
            out.push(heading(&title, theme));
            out.push(field(
                "why",
                why.clone(),
                theme,
                theme.style(Meaning::Warning),
            ));
            out.push(field("at", at, theme, text));
            if let Some(c) = cost_usd {
                let mut cost = crate::cost::format_usd(*c);
                if *cost_estimated {
                    cost.push_str(" (estimated: the prompt the server read)");
                }
                out.push(field("cost", cost, theme, text));
            }
        }
    }
}
