//! The renderer's promise, for any post body: the HTML holds only allow-listed tags, no event
//! handler, no `style`, and links only to `http:`, `https:` or `mailto:` once entities, case,
//! whitespace and control characters are undone (see [`super::safe_html`]).

use convene_domain::markdown::render;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::config;
use super::safe_html;

/// Scheme spellings a hostile link starts from.
const SCHEMES: &[&str] = &[
    "javascript:",
    "vbscript:",
    "data:",
    "data:text/html;base64,",
    "livescript:",
    "file:",
    "http://",
    "https://",
    "mailto:",
    "//",
    "",
];

/// What follows a scheme.
const PAYLOADS: &[&str] = &[
    "alert(1)",
    "alert(document.cookie)",
    "//%0aalert(1)",
    "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "example.org/a?b=1&c=2",
    "example.org/\"onmouseover=\"alert(1)",
    "someone@example.org",
    "x' onerror='alert(1)",
    "",
];

/// Noise put before a URL: whitespace, controls, encoded spaces, a byte-order mark.
const LEADERS: &[&str] = &[
    "", "", " ", "\t", "\u{0}", "\u{1}", "\u{1f}", "&#32;", "&#x09;", "%20", "\u{feff}", "\u{a0}",
    "\u{2028}",
];

/// Link texts, titles and loose HTML from XSS cheat sheets.
const TEXTS: &[&str] = &[
    "x",
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<object data=x>",
    "<embed src=x>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<div style=\"x:expression(alert(1))\">",
    "<a href=javascript:alert(1)>x</a>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "\" onmouseover=\"alert(1)",
    "' onfocus='alert(1)' autofocus '",
    "<!-- x --><script>",
    "<![CDATA[<script>]]>",
    "&lt;script&gt;",
    "javascript:alert(1)",
    "**bold** _em_ ~~del~~",
    "a\nb",
    "a  \nb",
    "[inner](javascript:alert(1))",
    "`<script>`",
];

/// Block context a construct is put in.
const PREFIXES: &[&str] = &[
    "", " ", "\n", "\n\n", "> ", ">> ", "> > ", "- ", "1. ", "- [ ] ", "- [x] ", "| ", "# ",
    "    ", "*", "_", "~~", "\\",
];

/// A link destination made hostile: scheme letters in mixed case, as decimal or hex entities
/// (with or without `;` and leading zeros), split by tabs, newlines or NULs, behind noise.
/// Half are left plain, so that allowed schemes often survive as links.
fn hostile_url() -> impl Strategy<Value = String> {
    (
        select(LEADERS),
        select(SCHEMES),
        prop_oneof![Just(Vec::new()), vec(any::<u8>(), 0..24)],
        select(PAYLOADS),
    )
        .prop_map(|(leader, scheme, codes, payload)| {
            let mut url = if codes.is_empty() {
                String::new()
            } else {
                leader.to_owned()
            };
            for (i, c) in scheme.chars().enumerate() {
                match codes.get(i).copied().map_or(0, |code| code % 16) {
                    0..=4 => url.push(c),
                    5 => url.push(c.to_ascii_uppercase()),
                    6 => url.push_str(&format!("&#{};", u32::from(c))),
                    7 => url.push_str(&format!("&#x{:X};", u32::from(c))),
                    8 => url.push_str(&format!("&#{:07}", u32::from(c))),
                    9 => url.push_str(&format!("&#X{:06x}", u32::from(c))),
                    10 => url.push_str(if c == ':' { "&colon;" } else { "&Tab;" }),
                    11 => url.extend(['\t', c]),
                    12 => url.extend(['\n', c]),
                    13 => url.extend(['\u{0}', c]),
                    14 => url.push_str(&format!("%{:02x}", u32::from(c))),
                    _ => url.extend(['\\', c]),
                }
            }
            url.push_str(payload);
            url
        })
}

/// One Markdown or HTML construct carrying a hostile URL or text.
fn construct() -> impl Strategy<Value = String> {
    (0u8..16, hostile_url(), select(TEXTS), select(TEXTS)).prop_map(|(kind, url, text, title)| {
        match kind {
            0 => format!("[{text}]({url})"),
            1 => format!("[{text}](<{url}>)"),
            2 => format!("[{text}]({url} \"{title}\")"),
            3 => format!("![{text}]({url})"),
            4 => format!("![{text}]({url} '{title}')"),
            5 => format!("<{url}>"),
            6 => format!("[{text}][r]\n\n[r]: {url}\n"),
            7 => format!("[{text}]\n\n[{text}]: <{url}> '{title}'\n"),
            8 => format!("<a href=\"{url}\" title=\"{title}\">{text}</a>"),
            9 => format!("<img src=\"{url}\" onerror=\"{title}\">"),
            10 => format!("[![{text}]({url})]({url})"),
            11 => format!("<{text} href={url} onclick={title}>"),
            12 => format!("`{text}` ``{title}``"),
            13 => format!("```{title}\n{text}\n```"),
            14 => format!("| {text} | [{title}]({url}) |\n|---|---|\n| {url} | x |"),
            _ => text.to_owned(),
        }
    })
}

/// Constructs in nested block contexts (quotes, lists, tables, headings).
fn hostile_document() -> impl Strategy<Value = String> {
    vec((select(PREFIXES), construct(), select(PREFIXES)), 1..10).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(before, construct, after)| format!("{before}{construct}{after}"))
            .collect()
    })
}

/// Markup fragments in any order: what half-open tags, entities and links make together.
fn fragment_soup() -> impl Strategy<Value = String> {
    const FRAGMENTS: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "\"",
        "'",
        "=",
        "`",
        "```",
        "!",
        "[",
        "]",
        "(",
        ")",
        "](",
        "<!--",
        "-->",
        "&",
        "&#",
        "&#x",
        ";",
        ":",
        "\n",
        "\n\n",
        " ",
        "\t",
        "\u{0}",
        "\\",
        "*",
        "_",
        "|",
        "-",
        "> ",
        "~~",
        "script",
        "SCRIPT",
        "img",
        "svg",
        "iframe",
        "style",
        "src",
        "href",
        "onerror",
        "onload",
        "OnClick",
        "javascript",
        "java",
        "script:",
        "data",
        "vbscript",
        "alert(1)",
        "http://",
        "https://a/",
        "mailto:",
        "//",
        "x",
        "a",
        "6A",
        "106",
        "x6a",
        "colon",
        "Tab",
        "[ ]",
    ];
    vec(select(FRAGMENTS), 1..60).prop_map(|parts| parts.concat())
}

/// Any characters, controls and astral planes included, or dense ASCII Markdown syntax.
fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(any::<char>(), 0..300).prop_map(String::from_iter),
        "[ -~\t\n]{0,300}",
    ]
}

fn assert_safe(input: &str) -> Result<(), TestCaseError> {
    let html = render(input);
    if let Err(violation) = safe_html::check(&html) {
        return Err(TestCaseError::fail(format!(
            "{violation}\ninput: {input:?}\noutput: {html:?}"
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_text_renders_safely(input in arbitrary_text()) {
        assert_safe(&input)?;
    }

    #[test]
    fn hostile_documents_render_safely(input in hostile_document()) {
        assert_safe(&input)?;
    }

    #[test]
    fn markup_fragment_soup_renders_safely(input in fragment_soup()) {
        assert_safe(&input)?;
    }
}

/// The checker is only worth its properties if it refuses what it should.
#[test]
fn the_checker_refuses_unsafe_html_and_accepts_rendered_posts() {
    for unsafe_html in [
        "<script>alert(1)</script>",
        "<p onclick=\"alert(1)\">x</p>",
        "<p style=\"color:red\">x</p>",
        "<img src=\"x\">",
        "<iframe></iframe>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JavaScript:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"&#0000106avascript:alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<a href=\"java&Tab;script:alert(1)\">x</a>",
        "<a href=\"javascript&colon;alert(1)\">x</a>",
        "<a href=\"&amp;#106;avascript:alert(1)\">x</a>",
        "<a href=\" \u{1}javascript:alert(1)\">x</a>",
        "<a href=\"vbscript:x\">x</a>",
        "<a href=\"data:text/html,x\">x</a>",
        "<a href=\"//evil.example\">x</a>",
        "<a href=\"https://a\" rel=\"opener\">x</a>",
        "<ol start=\"1;x\"><li>x</li></ol>",
        "<p title=\"x\">x</p>",
        "<!-- x -->",
        "<p>x</p><",
    ] {
        assert!(safe_html::check(unsafe_html).is_err(), "{unsafe_html}");
    }
    for rendered in [
        "*a* [b](https://example.org/?q=1&c=<x>) <script> javascript:alert(1)",
        "![x](http://a \"t\")\n\n<someone@example.org>\n\n3. x\n\n| a |\n|---|\n| b |",
    ] {
        let html = render(rendered);
        assert!(safe_html::check(&html).is_ok(), "{html}");
    }
    assert!(render("[b](https://example.org/)").contains("<a href="));
}

/// The hostile generator reaches both outcomes that matter: links that are kept (so the URL
/// check sees real `href`s) and links that are dropped.
#[test]
fn hostile_documents_yield_both_kept_and_dropped_links() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut kept, mut escaped) = (0, 0);
    for _ in 0..500 {
        let input = hostile_document()
            .new_tree(&mut runner)
            .expect("a document")
            .current();
        let html = render(&input);
        kept += usize::from(html.contains("<a href="));
        escaped += usize::from(html.contains("&lt;"));
    }
    assert!(kept > 50 && escaped > 100, "{kept} kept, {escaped} escaped");
}
