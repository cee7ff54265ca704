//! WASM entry: panic hook, browser logging, mount the app.

fn main() {
    console_error_panic_hook::set_once();
    // Logging to the console is best effort; a second init fails harmlessly.
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::mount_to_body(app::App);
}
