//! Widgets: they take data through props and fetch nothing themselves.

pub mod access;
pub mod layout;
pub mod state;
pub mod upstreams;
