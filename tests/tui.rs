//! Playground tests: the App, its snapshots, and its robustness runs.

mod support;

#[path = "tui/breaker_panel.rs"]
mod breaker_panel;
#[path = "tui/export_dialog.rs"]
mod export_dialog;
#[path = "tui/hedge_rows.rs"]
mod hedge_rows;
#[path = "tui/lab_view.rs"]
mod lab_view;
#[path = "tui/limit_rows.rs"]
mod limit_rows;
#[path = "tui/replayed_output.rs"]
mod replayed_output;
#[path = "tui/robustness_tui.rs"]
mod robustness_tui;
#[path = "tui/run_panes.rs"]
mod run_panes;
#[path = "tui/sdk_rows.rs"]
mod sdk_rows;
#[path = "tui/tui_app.rs"]
mod tui_app;
#[path = "tui/tui_controls.rs"]
mod tui_controls;
#[path = "tui/tui_layout_keys.rs"]
mod tui_layout_keys;
#[path = "tui/tui_snapshots.rs"]
mod tui_snapshots;
#[path = "tui/whatif_view.rs"]
mod whatif_view;
