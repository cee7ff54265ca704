//! Auto-refresh: a choice of intervals kept in the page's URL, the one timer
//! that reloads the page's data while it is on, and "Refresh now".

use std::time::Duration;

use leptos::prelude::*;

/// Auto-refresh choices: (URL value, label, seconds; 0 is off).
pub const REFRESH: [(&str, &str, u64); 4] = [
    ("", "Off", 0),
    ("30s", "30 s", 30),
    ("1m", "1 min", 60),
    ("5m", "5 min", 300),
];

/// Seconds between refreshes for a URL value; `None` when off or unknown.
pub fn refresh_seconds(value: &str) -> Option<u64> {
    REFRESH
        .iter()
        .find(|r| r.0 == value && r.2 > 0)
        .map(|r| r.2)
}

/// The "Auto-refresh" select with its timer (one interval at a time,
/// replaced when the choice changes), and "Refresh now".
#[component]
pub fn AutoRefresh(
    /// The URL value in force.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the chosen URL value.
    on_change: Callback<String>,
    /// Loads the page's data again.
    refetch: Callback<()>,
) -> impl IntoView {
    let interval = StoredValue::new(None::<IntervalHandle>);
    Effect::new(move |_| {
        if let Some(handle) = interval.get_value() {
            handle.clear();
        }
        let next = refresh_seconds(&value.get()).and_then(|s| {
            set_interval_with_handle(move || refetch.run(()), Duration::from_secs(s)).ok()
        });
        interval.set_value(next);
    });
    on_cleanup(move || {
        if let Some(handle) = interval.try_get_value().flatten() {
            handle.clear();
        }
    });
    view! {
        <label class="control">
            <span>"Auto-refresh"</span>
            <select
                aria-label="Auto-refresh"
                prop:value=move || value.get()
                on:change=move |ev| on_change.run(event_target_value(&ev))
            >
                {REFRESH.iter().map(|(v, label, _)| view! { <option value=*v>{*label}</option> }).collect_view()}
            </select>
        </label>
        <button type="button" on:click=move |_| refetch.run(())>
            "Refresh now"
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::refresh_seconds;

    #[test]
    fn only_known_choices_refresh() {
        assert_eq!(refresh_seconds("30s"), Some(30));
        assert_eq!(refresh_seconds("5m"), Some(300));
        assert_eq!(refresh_seconds(""), None);
        assert_eq!(refresh_seconds("7s"), None);
    }
}
