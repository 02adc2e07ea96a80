//! Post bodies are stored as Markdown and shown as HTML. The HTML must be safe to put in a page
//! that members of private groups read, so it is built in two independent layers:
//!
//! 1. The Markdown events are rewritten before rendering: raw HTML becomes visible text, links
//!    and images keep only `http:`, `https:` and `mailto:` destinations, images become links
//!    (a remote image would tell its host who reads the thread, and when), and task-list
//!    checkboxes become characters rather than `<input>`.
//! 2. ammonia then parses the HTML as a browser would and keeps only an explicit allow-list of
//!    tags and attributes, so a mistake in the first layer still cannot produce markup.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Renders a post body (CommonMark plus tables, strikethrough, task lists) to sanitized HTML.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = defuse(Parser::new_ext(markdown, options));
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut html, cap_nesting(events.into_iter()));
    SANITIZER.clean(&html).to_string()
}

/// Elements nested deeper than this are dropped, keeping their text. No post needs more, and the
/// HTML parser's scope checks make its time grow with the square of the depth: unoptimised,
/// 8,000 nested quotes (`>>>>…`) took seconds and a 64 KiB body of them minutes.
const MAX_NESTING: usize = 32;

/// The only markup a rendered post may contain. Everything else is removed, keeping its text.
const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "a",
];

/// Link destinations a reader may follow; relative and protocol-relative URLs are refused too.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Added to every link: posts are not endorsements, and the target learns nothing about the page.
const LINK_REL: &str = "nofollow noopener noreferrer";

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(HashSet::from(["script", "style"]))
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            // Keeps "3. …" numbered as written; the browser reads it as an integer or ignores it.
            ("ol", HashSet::from(["start"])),
        ]))
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder
});

/// Whether a link destination, as the parser decoded it, starts with an allowed scheme. A prefix
/// test on the decoded string leaves no room for whitespace, entity or case tricks.
fn is_allowed_url(url: &str) -> bool {
    ["http://", "https://", "mailto:"].iter().any(|prefix| {
        url.as_bytes()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
    })
}

/// Drops the start and end of every element nested more than [`MAX_NESTING`] deep.
fn cap_nesting<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    let mut open: Vec<bool> = Vec::new();
    let mut kept = 0usize;
    events.filter(move |event| match event {
        Event::Start(_) => {
            let keep = kept < MAX_NESTING;
            open.push(keep);
            kept += usize::from(keep);
            keep
        }
        Event::End(_) => {
            let keep = open.pop().unwrap_or(false);
            kept -= usize::from(keep);
            keep
        }
        _ => true,
    })
}

/// What the end of a link or image turns into, decided when its start was seen.
enum Closer<'a> {
    /// The start was kept as a link; close it.
    Link,
    /// An image shown as a link; if its alt text was empty, show the URL instead.
    ImageLink { url: CowStr<'a>, text_mark: usize },
    /// The start was dropped; only its text remains.
    Nothing,
}

/// Rewrites the parser's events so that nothing in them asks the HTML writer for raw markup,
/// a dangerous URL, an image or a form control.
fn defuse<'a>(parser: Parser<'a>) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    let mut closers: Vec<Closer<'a>> = Vec::new();
    // Inside an image only its alt text is kept, as the HTML writer would for `alt="…"`.
    let mut image_depth = 0usize;
    let mut alt_text_events = 0usize;
    // Links cannot hold links, so an image inside a kept link shows only its alt text.
    let mut open_links = 0usize;

    for event in parser {
        let in_link = open_links > 0;
        match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let allowed = link_type == LinkType::Email || is_allowed_url(&dest_url);
                if image_depth == 0 && !in_link && allowed {
                    open_links += 1;
                    closers.push(Closer::Link);
                    out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                } else {
                    closers.push(Closer::Nothing);
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                if image_depth == 0 && !in_link && is_allowed_url(&dest_url) {
                    open_links += 1;
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url: dest_url.clone(),
                        title: CowStr::Borrowed(""),
                        id: CowStr::Borrowed(""),
                    }));
                    closers.push(Closer::ImageLink {
                        url: dest_url,
                        text_mark: alt_text_events,
                    });
                } else {
                    closers.push(Closer::Nothing);
                }
                image_depth += 1;
            }
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
                if end == TagEnd::Image {
                    image_depth = image_depth.saturating_sub(1);
                }
                match closers.pop() {
                    Some(Closer::Link) => {
                        open_links -= 1;
                        out.push(Event::End(TagEnd::Link));
                    }
                    Some(Closer::ImageLink { url, text_mark }) => {
                        open_links -= 1;
                        if alt_text_events == text_mark {
                            out.push(Event::Text(url));
                        }
                        out.push(Event::End(TagEnd::Link));
                    }
                    Some(Closer::Nothing) | None => {}
                }
            }
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text)
                if image_depth > 0 =>
            {
                alt_text_events += 1;
                out.push(Event::Text(text));
            }
            Event::SoftBreak | Event::HardBreak if image_depth > 0 => {
                out.push(Event::Text(CowStr::Borrowed(" ")));
            }
            Event::Start(_) | Event::End(_) if image_depth > 0 => {}
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => out.push(Event::End(TagEnd::Paragraph)),
            Event::Html(text) | Event::InlineHtml(text) => out.push(Event::Text(text)),
            Event::TaskListMarker(done) => {
                out.push(Event::Text(CowStr::Borrowed(if done {
                    "☑ "
                } else {
                    "☐ "
                })));
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {

    use super::*;

    const REL: &str = r#"rel="nofollow noopener noreferrer""#;

    /// One tag of rendered output, lowercased: its name and its attributes in order.
    #[derive(Debug)]
    struct ScannedTag {
        name: String,
        attrs: Vec<(String, String)>,
        markup: String,
    }

    /// Splits serialized HTML into its tags. The sanitizer escapes `<` in text, so every `<` in the
    /// output opens a tag; attribute values are double-quoted and may contain `>`.
    fn scan_tags(html: &str) -> Vec<ScannedTag> {
        let html = html.to_lowercase();
        let bytes = html.as_bytes();
        let mut tags = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'<' {
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            if bytes.get(i) == Some(&b'/') {
                i += 1;
            }
            let name_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let name = html[name_start..i].to_owned();
            assert!(!name.is_empty(), "a `<` that opens no tag in {html:?}");
            let mut attrs = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                    i += 1;
                }
                assert!(i < bytes.len(), "unterminated tag in {html:?}");
                if bytes[i] == b'>' {
                    i += 1;
                    break;
                }
                let attr_start = i;
                while i < bytes.len() && !b" \t\n\r/>=".contains(&bytes[i]) {
                    i += 1;
                }
                let attr = html[attr_start..i].to_owned();
                let mut value = String::new();
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    assert_eq!(bytes.get(i), Some(&b'"'), "unquoted value in {html:?}");
                    i += 1;
                    let value_start = i;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += 1;
                    }
                    value = html[value_start..i].to_owned();
                    i += 1;
                }
                attrs.push((attr, value));
            }
            tags.push(ScannedTag {
                name,
                attrs,
                markup: html[start..i].to_owned(),
            });
        }
        tags
    }

    /// The invariants every rendering must hold, whatever the input: only allow-listed tags and
    /// attributes, no event handler, and only http, https or mailto link destinations.
    fn assert_safe(input: &str, output: &str) {
        let lower = output.to_lowercase();
        for needle in [
            "<script", "<svg", "<iframe", "<object", "<embed", "<style", "<form", "<input",
            "<math", "<img", "<!--", "<details", "<body", "<div",
        ] {
            assert!(
                !lower.contains(needle),
                "{needle} in {output:?} from {input:?}"
            );
        }
        for tag in scan_tags(output) {
            assert!(
                TAGS.contains(&tag.name.as_str()),
                "<{}> in {output:?} from {input:?}",
                tag.name
            );
            for (attr, value) in &tag.attrs {
                let is_handler = attr.len() > 2 && attr.starts_with("on");
                assert!(!is_handler, "handler {attr} in {output:?} from {input:?}");
                match (tag.name.as_str(), attr.as_str()) {
                    ("a", "href") => assert!(
                        ["http://", "https://", "mailto:"]
                            .iter()
                            .any(|scheme| value.starts_with(scheme)),
                        "href {value:?} from {input:?}"
                    ),
                    ("a", "rel") => assert_eq!(value, LINK_REL),
                    ("ol", "start") => assert!(
                        value.bytes().all(|b| b.is_ascii_digit()),
                        "start {value:?} from {input:?}"
                    ),
                    _ => panic!("attribute {attr} on <{}> from {input:?}", tag.name),
                }
            }
        }
    }

    fn rendered_safely(input: &str) -> String {
        let output = render(input);
        assert_safe(input, &output);
        output
    }

    #[test]
    fn renders_emphasis_strong_and_strikethrough() {
        assert_eq!(
            render("*a* **b** ~~c~~ `d`"),
            "<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code></p>\n"
        );
    }

    #[test]
    fn renders_lists_keeping_the_start_number() {
        assert_eq!(
            render("- one\n- two\n\n3. three\n4. four\n"),
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n"
        );
    }

    #[test]
    fn renders_code_blocks_escaped_and_without_a_language_class() {
        assert_eq!(
            render("```rust\nif a < b && c > d {}\n```\n"),
            "<pre><code>if a &lt; b &amp;&amp; c &gt; d {}\n</code></pre>\n"
        );
    }

    #[test]
    fn renders_tables_without_alignment_styles() {
        assert_eq!(
            render("| a | b |\n|:--|--:|\n| 1 | 2 |\n"),
            "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>1</td><td>2</td></tr>\n</tbody></table>\n"
        );
    }

    #[test]
    fn links_get_rel_and_keep_their_query() {
        assert_eq!(
            render("[site](https://example.org/a?b=1&c=2 \"title\")"),
            format!("<p><a href=\"https://example.org/a?b=1&amp;c=2\" {REL}>site</a></p>\n")
        );
    }

    #[test]
    fn autolinks_and_email_autolinks_become_links() {
        assert_eq!(
            render("<https://example.org/x> and <someone@example.org>"),
            format!(
                "<p><a href=\"https://example.org/x\" {REL}>https://example.org/x</a> and \
                 <a href=\"mailto:someone@example.org\" {REL}>someone@example.org</a></p>\n"
            )
        );
    }

    #[test]
    fn reference_links_are_checked_like_inline_links() {
        assert_eq!(
            render("[ok] [bad]\n\n[ok]: https://example.org\n[bad]: javascript:alert(1)\n"),
            format!("<p><a href=\"https://example.org\" {REL}>ok</a> bad</p>\n")
        );
    }

    #[test]
    fn task_list_markers_are_text_not_inputs() {
        assert_eq!(
            render("- [ ] todo\n- [x] done\n"),
            "<ul>\n<li>☐ todo</li>\n<li>☑ done</li>\n</ul>\n"
        );
    }

    #[test]
    fn images_become_links_so_no_remote_content_loads() {
        assert_eq!(
            render("![a *map*](https://example.org/m.png)"),
            format!("<p><a href=\"https://example.org/m.png\" {REL}>a map</a></p>\n")
        );
        assert_eq!(
            render("![](https://example.org/m.png)"),
            format!(
                "<p><a href=\"https://example.org/m.png\" {REL}>https://example.org/m.png</a></p>\n"
            )
        );
        assert_eq!(
            render("[![logo](https://example.org/l.png)](https://example.org/)"),
            format!("<p><a href=\"https://example.org/\" {REL}>logo</a></p>\n")
        );
        assert_eq!(render("![alt](javascript:alert(1))"), "<p>alt</p>\n");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(
            render("a <b>bold</b> claim"),
            "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>\n"
        );
        assert_eq!(
            render("<div onclick=\"x()\">\nhi\n</div>\n"),
            "<p>&lt;div onclick=\"x()\"&gt;\nhi\n&lt;/div&gt;\n</p>\n"
        );
    }

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            render("a < b & c > d \"q\" 'r'"),
            "<p>a &lt; b &amp; c &gt; d \"q\" 'r'</p>\n"
        );
        assert_eq!(
            render("&lt;script&gt; &amp;"),
            "<p>&lt;script&gt; &amp;</p>\n"
        );
    }

    #[test]
    fn relative_and_protocol_relative_links_keep_only_their_text() {
        assert_eq!(render("[x](//evil.example/a)"), "<p>x</p>\n");
        assert_eq!(render("[x](/groups/a)"), "<p>x</p>\n");
        assert_eq!(render("[x](#top)"), "<p>x</p>\n");
    }

    #[test]
    fn a_normal_post_renders_as_written() {
        let post = "## Referral pathways\n\n\
                    Thanks, @sam. Two points from our *regional* team:\n\n\
                    1. Call the **duty desk** first.\n\
                    2. Log it in [the guidance](https://example.org/guide) & the case file.\n\n\
                    > Screening is not investigation.\n\n\
                    ---\n\
                    Line one  \nline two\n";
        assert_eq!(
            rendered_safely(post),
            format!(
                "<h2>Referral pathways</h2>\n\
                 <p>Thanks, @sam. Two points from our <em>regional</em> team:</p>\n\
                 <ol>\n<li>Call the <strong>duty desk</strong> first.</li>\n\
                 <li>Log it in <a href=\"https://example.org/guide\" {REL}>the guidance</a> &amp; the case file.</li>\n\
                 </ol>\n\
                 <blockquote>\n<p>Screening is not investigation.</p>\n</blockquote>\n\
                 <hr>\n\
                 <p>Line one<br>\nline two</p>\n"
            )
        );
    }

    #[test]
    fn output_is_deterministic() {
        let post = "# t\n\n[a](https://a.example) ![b](http://b.example) <i>x</i>\n\n| a |\n|---|\n| b |\n";
        let first = render(post);
        for _ in 0..10 {
            assert_eq!(render(post), first);
        }
    }

    const XSS_CORPUS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=x ONERROR=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java&#x73;cript:alert(1))",
        "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
        "[x](javascript&colon;alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](<java\nscript:alert(1)>)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"  javascript:alert(1)\">x</a>",
        "[x]( javascript:alert(1))",
        "[x](< javascript:alert(1)>)",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\">",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><input type=submit></form>",
        "<details open ontoggle=alert(1)>",
        "<body onload=alert(1)>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<scr<script>ipt>alert(1)</script>",
        "<<script>script>alert(1)<</script>/script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "[x](vbscript:msgbox(1))",
        "[x](//evil.example)",
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x]\n\n[x]: <javascript:alert(1)> \"t\"",
        "[x](http://a \"\\\" onmouseover=alert(1) x=\\\"\")",
        "[x](http://a 'a\" onmouseover=alert(1) \"')",
        "![x](http://a \"\\\" onerror=alert(1) x=\\\"\")",
        "<http://a\" onmouseover=\"alert(1)>",
        "<javascript:alert(1)>",
        "[<img src=x onerror=alert(1)>](https://example.org)",
        "[x](https://example.org\"onmouseover=\"alert(1))",
        "`<script>alert(1)</script>`",
        "```html\n<script>alert(1)</script>\n```",
        "<!-- <script>alert(1)</script> -->",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<textarea><script>alert(1)</script></textarea>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<base href=\"javascript:/\"><a href=\"x\">x</a>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<link rel=stylesheet href=\"javascript:alert(1)\">",
        "- [x] <input type=checkbox onclick=alert(1)>",
        "| a |\n|---|\n| <script>alert(1)</script> |",
        "> <svg/onload=alert(1)>",
        "*<img src=x onerror=alert(1)>*",
        "[x](javascript://%0aalert(1))",
        "[x](jav&#x09;ascript:alert(1))",
        "[x](\u{0}javascript:alert(1))",
        "[x](file:///etc/passwd)",
    ];

    #[test]
    fn xss_corpus_leaves_no_script_handler_or_bad_url() {
        assert!(XSS_CORPUS.len() >= 30);
        for vector in XSS_CORPUS {
            for input in [
                vector.to_string(),
                format!("before {vector} after"),
                format!("- item\n\n  {vector}\n"),
            ] {
                let output = rendered_safely(&input);
                // No corpus link survives, so no markup may even mention these schemes.
                for tag in scan_tags(&output) {
                    for scheme in ["javascript:", "vbscript:", "data:", "file:"] {
                        assert!(
                            !tag.markup.contains(scheme),
                            "{scheme} in {} from {input:?}",
                            tag.markup
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn dangerous_link_destinations_keep_only_their_text() {
        for vector in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java&#x73;cript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "[x]( javascript:alert(1))",
            "[x](//evil.example)",
            "[x](file:///etc/passwd)",
            "![x](javascript:alert(1))",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            assert_eq!(render(vector), "<p>x</p>\n", "from {vector:?}");
        }
    }

    #[test]
    fn a_quoted_title_cannot_break_out_of_the_link() {
        assert_eq!(
            render("[x](http://a \"\\\" onmouseover=alert(1) x=\\\"\")"),
            format!("<p><a href=\"http://a\" {REL}>x</a></p>\n")
        );
    }

    /// Each input is within the 64 KiB body limit and must render quickly, without deep recursion.
    #[test]
    fn pathological_input_renders_quickly() {
        let inputs = [
            format!("{}deep", ">".repeat(1000)),
            "*".repeat(10_000),
            format!("{}deep", ">".repeat(65_000)),
            format!("{}deep", "> - ".repeat(16_000)),
            "1. ".repeat(21_000),
            "*a".repeat(32_000),
            format!("{}x{}", "**".repeat(16_000), "**".repeat(16_000)),
            "~~a".repeat(21_000),
            "[".repeat(65_000),
            "[x](".repeat(16_000),
            "![".repeat(32_000),
            "<".repeat(65_000),
            "`".repeat(65_000),
            "| a ".repeat(16_000),
            "- a\n".repeat(16_000),
            "[a](http://a)".repeat(5_000),
            format!("{}a{}", "![".repeat(8_000), "](http://b)".repeat(8_000)),
            format!("{}a{}", "[".repeat(8_000), "](http://b)".repeat(8_000)),
        ];
        // How long these take is measured by the benchmarks, not asserted here.
        for input in &inputs {
            rendered_safely(input);
        }
    }

    #[test]
    fn deep_nesting_is_flattened_but_keeps_its_text() {
        let output = rendered_safely(&format!("{}deep", ">".repeat(1000)));
        assert_eq!(output.matches("<blockquote>").count(), MAX_NESTING);
        assert_eq!(output.matches("</blockquote>").count(), MAX_NESTING);
        assert!(output.contains("deep"));
    }

    /// A fixed-seed generator, so a failure reproduces; 64-bit LCG constants from Knuth's MMIX.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    #[test]
    fn random_markup_fragments_never_yield_script_handlers_or_bad_urls() {
        const FRAGMENTS: &[&str] = &[
            "<",
            ">",
            "\"",
            "'",
            "=",
            "script",
            "onerror",
            "onload",
            "javascript:",
            "JaVaScRiPt:",
            "data:",
            "vbscript:",
            "[",
            "](",
            ")",
            "!",
            "*",
            "`",
            "```",
            "\n",
            "\n\n",
            "svg",
            " ",
            "/",
            "img",
            "src",
            "href",
            "a",
            "http://",
            "//",
            "&#",
            "x",
            ";",
            "&",
            "<!--",
            "-->",
            "|",
            "-",
            "> ",
            "\t",
            "\\",
            ":",
            "(",
            "[ ]",
            "~~",
            "](http://",
            "](https://a/",
            "<https://",
            "](mailto:",
            "[a](",
        ];
        let mut rng = Lcg(0x5eed);
        let (mut links, mut escaped) = (0, 0);
        for _ in 0..5000 {
            let len = 1 + rng.below(40);
            let input: String = (0..len)
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect();
            let output = rendered_safely(&input);
            links += usize::from(output.contains("<a href="));
            escaped += usize::from(output.contains("&lt;"));
        }
        // The inputs reach both paths that matter: kept links and raw HTML shown as text.
        assert!(
            links > 50 && escaped > 1000,
            "{links} links, {escaped} escaped"
        );
    }
}
