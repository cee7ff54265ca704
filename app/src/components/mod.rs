//! Widgets: they take data through props and fetch nothing themselves.

pub mod access;
pub mod chart;
pub mod layout;
pub mod panel;
pub mod refresh;
pub mod state;
pub mod top_list;
pub mod upstreams;
