//! What Chromium does with the mouse moves einvreg sends: held for the
//! page's next frame, unless DevTools' overlay is on (as einvreg turns it
//! on in each row's tab, `driver::command::unbuffered_input`). A click
//! begins with a move, so this is ~10 ms a click on an idle page; a
//! Chromium that stopped honouring the overlay this way would fail here
//! before the bench shows it.

use crate::support::Chrome;
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use std::time::Duration;

/// A page drawing every frame; each mouse move notes whether a frame ran
/// between it and a task it queued (always, when the move was handled
/// at the start of a frame, just before the frame's callbacks).
const PAGE: &str = r#"<!doctype html><body style="margin:0;height:600px">
<script>
let frames = 0;
(function tick() { frames++; requestAnimationFrame(tick); })();
window.moves = [];
document.addEventListener('mousemove', () => {
  const at = frames, ch = new MessageChannel();
  ch.port1.onmessage = () => window.moves.push(frames > at);
  ch.port2.postMessage(0);
});
</script>"#;

/// Sends `n` mouse moves, each alone, and says for how many a frame ran
/// first (of the moves the page saw).
fn moves_held_for_a_frame(chrome: &Chrome, n: u32) -> (usize, usize) {
    chrome.js("window.moves = []; return 0");
    for i in 0..n {
        let to = PointerAction::MoveTo {
            duration: Some(Duration::ZERO),
            x: 100.0 + f64::from(i % 2) * 50.0,
            y: 100.0,
        };
        let mouse = MouseActions::new("mouse".into()).then(to);
        chrome.run(chrome.client().perform_actions(mouse)).unwrap();
    }
    let seen = chrome.js("return window.moves");
    let seen = seen.as_array().unwrap();
    let held = seen.iter().filter(|v| v.as_bool() == Some(true)).count();
    (held, seen.len())
}

#[test]
fn the_overlay_lets_mouse_moves_in_without_waiting_for_a_frame() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("frames.html");
    std::fs::write(&page, PAGE).unwrap();
    let chrome = Chrome::start();
    chrome.open(&page);
    let (held, seen) = moves_held_for_a_frame(&chrome, 10);
    assert!(seen >= 9, "the page saw {seen} of 10 moves");
    assert!(
        held + 1 >= seen,
        "as Chromium comes: {held} of {seen} held for a frame"
    );
    chrome.cdp("DOM.enable");
    chrome.cdp("Overlay.enable");
    let (held, seen) = moves_held_for_a_frame(&chrome, 10);
    assert!(seen >= 9, "the page saw {seen} of 10 moves");
    assert!(
        held * 2 < seen,
        "with the overlay: {held} of {seen} held for a frame"
    );
}
