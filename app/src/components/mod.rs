//! Widgets: they take data through props and fetch nothing themselves.

pub mod access;
pub mod chart;
pub mod layout;
pub mod panel;
pub mod refresh;
pub mod state;
pub mod top_list;
pub mod upstreams;

/// The viewer's offset from UTC in seconds (from the browser), for times
/// shown in the viewer's zone.
pub fn utc_offset_s() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64) * 60
}
