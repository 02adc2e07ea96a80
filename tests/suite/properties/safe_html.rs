//! What rendered Markdown may contain, checked on the serialized HTML without trusting the
//! sanitizer's own parser. Shared by the property tests and the `markdown` fuzz target.
//!
//! The renderer promises only these tags, and on them only `a href` (an `http:`, `https:` or
//! `mailto:` URL), `a rel` (fixed) and `ol start` (digits). Every `<` in the output therefore
//! opens or closes one of these tags; anything the checker does not recognise is a violation,
//! so that a surprise in the output is looked at rather than waved through.

/// The tags a rendered post may contain.
pub const TAGS: &[&str] = &[
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

/// The `rel` of every link.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// Markup that must never appear, whatever else the checker concludes. (Text may say
/// anything: its `<` is escaped, and `style=` or `javascript:` in it is only words.)
const NEVER: &[&str] = &[
    "<script", "<iframe", "<object", "<embed", "<style", "<svg", "<math", "<img", "<form",
    "<input", "<link", "<meta", "<base", "<!--", "<![cdata", "<?",
];

/// Why an output is unsafe, for the failure message.
pub fn check(html: &str) -> Result<(), String> {
    let lower = html.to_lowercase();
    if let Some(needle) = NEVER.iter().find(|needle| lower.contains(*needle)) {
        return Err(format!("{needle} in the output"));
    }
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'<' {
            i = check_tag(html, i)?;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Checks the tag that opens at `start`; returns the index just past it.
fn check_tag(html: &str, start: usize) -> Result<usize, String> {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name = &html[name_start..i];
    if !TAGS.contains(&name) {
        let context: String = html[start..].chars().take(40).collect();
        return Err(format!("unexpected markup {context:?}"));
    }
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        match bytes.get(i) {
            None => return Err(format!("unterminated <{name}>")),
            Some(b'>') => return Ok(i + 1),
            Some(_) if closing => return Err(format!("attributes on </{name}>")),
            Some(_) => {}
        }
        let attr_start = i;
        while i < bytes.len() && bytes[i].is_ascii_lowercase() {
            i += 1;
        }
        let attr = &html[attr_start..i];
        if bytes.get(i) != Some(&b'=') || bytes.get(i + 1) != Some(&b'"') {
            return Err(format!(
                "attribute {attr:?} on <{name}> is not name=\"value\""
            ));
        }
        i += 2;
        let value_start = i;
        while i < bytes.len() && bytes[i] != b'"' {
            i += 1;
        }
        if i == bytes.len() {
            return Err(format!("unterminated attribute {attr} on <{name}>"));
        }
        check_attribute(name, attr, &html[value_start..i])?;
        i += 1;
    }
}

fn check_attribute(tag: &str, attr: &str, raw_value: &str) -> Result<(), String> {
    if attr.starts_with("on") {
        return Err(format!("event handler {attr} on <{tag}>"));
    }
    let value = decode_entities(raw_value);
    match (tag, attr) {
        ("a", "href") => check_url(&value),
        ("a", "rel") if value == LINK_REL => Ok(()),
        ("ol", "start") if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("attribute {attr}={raw_value:?} on <{tag}>")),
    }
}

/// A link destination as a browser would read its scheme: entities decoded (repeatedly, to be
/// safe), then every whitespace and control character removed, then lowercased.
fn check_url(url: &str) -> Result<(), String> {
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    for scheme in ["javascript:", "vbscript:", "data:"] {
        if squeezed.starts_with(scheme) {
            return Err(format!("{scheme} URL {url:?}"));
        }
    }
    if ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| squeezed.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(format!(
            "link to {url:?}, which is not http, https or mailto"
        ))
    }
}

/// Decodes numeric character references (with or without `;`) and the named ones that can
/// matter in a URL, until nothing changes.
pub fn decode_entities(text: &str) -> String {
    let mut current = text.to_owned();
    loop {
        let next = decode_once(&current);
        if next == current {
            return current;
        }
        current = next;
    }
}

fn decode_once(text: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("nbsp", '\u{a0}'),
        ("colon", ':'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("sol", '/'),
        ("lpar", '('),
        ("rpar", ')'),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some((decoded, used)) = numeric(after).or_else(|| {
            NAMED.iter().find_map(|(name, c)| {
                let head = after.get(..name.len())?;
                head.eq_ignore_ascii_case(name).then(|| {
                    let used = name.len() + usize::from(after[name.len()..].starts_with(';'));
                    (*c, used)
                })
            })
        }) {
            out.push(decoded);
            rest = &after[used..];
        } else {
            out.push('&');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `#106;`, `#x6A;` or `#X6a` (the `;` optional): the character and the bytes read.
fn numeric(after: &str) -> Option<(char, usize)> {
    let digits = after.strip_prefix('#')?;
    let (hex, digits) = match digits.strip_prefix(['x', 'X']) {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let len = digits
        .bytes()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if len == 0 {
        return None;
    }
    let radix = if hex { 16 } else { 10 };
    // Leading zeros are allowed and any size is read; too large a value is U+FFFD.
    let value = digits[..len].chars().fold(0u32, |value, digit| {
        value
            .saturating_mul(radix)
            .saturating_add(digit.to_digit(radix).unwrap_or(0))
    });
    let c = char::from_u32(value).unwrap_or('\u{fffd}');
    let prefix = 1 + usize::from(hex);
    let used = prefix + len + usize::from(digits[len..].starts_with(';'));
    Some((c, used))
}
