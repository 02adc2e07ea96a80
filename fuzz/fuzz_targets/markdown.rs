//! Renders arbitrary UTF-8 as a post body and fails on any output the sanitizer promises never
//! to produce: a tag or attribute off the allow-list, an event handler, a `style`, or a link
//! that is not http, https or mailto once entities, case and whitespace tricks are undone.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/suite/properties/safe_html.rs"]
mod safe_html;

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else {
        return;
    };
    let html = convene_domain::markdown::render(markdown);
    if let Err(violation) = safe_html::check(&html) {
        panic!("{violation}\ninput: {markdown:?}\noutput: {html:?}");
    }
});
