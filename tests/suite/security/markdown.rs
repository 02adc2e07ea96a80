//! Markdown and every other text field against script injection (SECURITY.md): bodies are
//! rendered once, sanitized, into `bodyHtml`; an XSS corpus put into every text field a user
//! can write leaves no script, event handler or `javascript:` URL in any HTML output, no
//! dangerous scheme in any URL output, and comes back in every other field exactly as written,
//! as JSON data, never as markup.

use std::collections::HashSet;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

use super::canary::read_everything;
use super::sdl::schema;
use crate::harness::{User, each_backend, error_code};
use crate::membership::{join, mutate};
use crate::presentations::{FilePart, PDF, download, share, shared};
use crate::threads::{community, edit, group_threads, id_of, payload, reply_raw, start_thread_raw};

/// Markup that must never survive into `bodyHtml`.
const XSS_CORPUS: &[&str] = &[
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert(1)\">",
    "<p onclick=\"alert(1)\">click</p>",
    "<details open ontoggle=alert(1)>x</details>",
    "<div style=\"background:url(javascript:alert(1))\">styled</div>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\\script:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](VBScript:msgbox(1))",
    "![pic](javascript:alert(1))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<a href=\"javascript:alert(1)\">raw link</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">tab link</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">data link</a>",
    "<a href=\"vbscript:msgbox(1)\">vb link</a>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<SVG/OnLoad=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<IFRAME SRCDOC=\"<script>alert(1)</script>\">",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "Text <b onmouseover=alert(1)>bold</b> and `<script>` in code",
    "* item <script>alert(1)</script>\n* [x](javascript:alert(1))\n\n> <img src=x onerror=alert(1)>",
];

/// Tags never allowed in a rendered post.
const FORBIDDEN_TAGS: &[&str] = &[
    "script", "svg", "iframe", "object", "embed", "style", "math", "frame", "frameset", "applet",
    "base", "link", "meta", "form",
];

/// Attributes holding a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "data",
    "background",
    "cite",
    "srcset",
    "srcdoc",
    "ping",
    "lowsrc",
    "dynsrc",
];

/// A tag of an HTML fragment: its name and attributes, names lowercased.
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// Every tag (`<…>`) of an HTML fragment, read like a browser's tokenizer would: attribute
/// values may be quoted with `"` or `'`, and may hold `>`.
fn tags(html: &str) -> Vec<Tag> {
    let chars: Vec<char> = html.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '<' {
            i += 1;
            continue;
        }
        i += 1;
        if at(i) == Some('/') {
            i += 1;
        }
        let start = i;
        while at(i).is_some_and(|c| !c.is_whitespace() && c != '>' && c != '/') {
            i += 1;
        }
        let name = chars[start..i].iter().collect::<String>().to_lowercase();
        let mut attributes = Vec::new();
        loop {
            while at(i).is_some_and(|c| c.is_whitespace() || c == '/') {
                i += 1;
            }
            match at(i) {
                None => break,
                Some('>') => {
                    i += 1;
                    break;
                }
                Some(_) => {}
            }
            let start = i;
            while at(i).is_some_and(|c| !c.is_whitespace() && !matches!(c, '=' | '>' | '/')) {
                i += 1;
            }
            let attribute = chars[start..i].iter().collect::<String>().to_lowercase();
            while at(i).is_some_and(char::is_whitespace) {
                i += 1;
            }
            let mut value = String::new();
            if at(i) == Some('=') {
                i += 1;
                while at(i).is_some_and(char::is_whitespace) {
                    i += 1;
                }
                match at(i) {
                    Some(quote) if quote == '"' || quote == '\'' => {
                        i += 1;
                        let start = i;
                        while at(i).is_some_and(|c| c != quote) {
                            i += 1;
                        }
                        value = chars[start..i.min(chars.len())].iter().collect();
                        i += 1;
                    }
                    _ => {
                        let start = i;
                        while at(i).is_some_and(|c| !c.is_whitespace() && c != '>') {
                            i += 1;
                        }
                        value = chars[start..i].iter().collect();
                    }
                }
            }
            attributes.push((attribute, value));
        }
        found.push(Tag { name, attributes });
    }
    found
}

/// Decodes the character references of an attribute value, once, as a browser does.
fn decode_entities(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "colon" => Some(':'),
                "Tab" => Some('\t'),
                "NewLine" => Some('\n'),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The scheme a browser would find in a URL attribute, if any.
fn url_scheme(raw: &str) -> Option<String> {
    let decoded: String = decode_entities(raw)
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let url = decoded.trim_matches(|c: char| c <= ' ');
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Asserts that sanitized HTML holds no script, handler, style or dangerous URL.
#[track_caller]
fn assert_harmless(html: &str, source: &str) {
    for tag in tags(html) {
        assert!(
            !FORBIDDEN_TAGS.contains(&tag.name.as_str()),
            "<{}> survived from {source:?}: {html}",
            tag.name
        );
        for (attribute, value) in &tag.attributes {
            assert!(
                !attribute.starts_with("on"),
                "handler {attribute} survived from {source:?}: {html}"
            );
            assert!(
                attribute != "style",
                "a style attribute survived from {source:?}: {html}"
            );
            if URL_ATTRIBUTES.contains(&attribute.as_str()) {
                if let Some(scheme) = url_scheme(value) {
                    assert!(
                        ["http", "https", "mailto"].contains(&scheme.as_str()),
                        "{attribute}={value:?} survived from {source:?}: {html}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_tag_scanner_sees_what_a_browser_would() {
    let found = tags("<p>a</p><A HREF='x>y' onClick=go>z</A><img src=javascript:x/>");
    let names: Vec<&str> = found.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["p", "p", "a", "a", "img"]);
    assert_eq!(
        found[2].attributes,
        [
            ("href".to_owned(), "x>y".to_owned()),
            ("onclick".to_owned(), "go".to_owned())
        ]
    );
    assert_eq!(
        found[4].attributes,
        [("src".to_owned(), "javascript:x/".to_owned())]
    );
    assert_eq!(
        url_scheme(" jav&#x09;ascript&colon;alert(1)").as_deref(),
        Some("javascript")
    );
    assert_eq!(url_scheme("&amp;colon;").as_deref(), None);
    assert_eq!(url_scheme("HTTPS://example.org").as_deref(), Some("https"));
    assert_eq!(url_scheme("/relative:path"), None);
}

#[tokio::test]
async fn no_script_handler_or_dangerous_url_reaches_body_html() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let control = "[safe](https://example.org/safe) and <mailto:help@example.org>";
        let mut corpus: Vec<&str> = XSS_CORPUS.to_vec();
        corpus.push(control);
        assert!(corpus.len() >= 15);
        let mut links = Vec::new();
        for vector in corpus {
            let response = start_thread_raw(
                &server,
                Some(&c.ben),
                json!({ "groupId": c.group, "title": vector, "body": vector }),
            )
            .await;
            let started = payload(&response, "startThread");
            // A title is plain text: it comes back exactly as given.
            assert_eq!(started["thread"]["title"], vector);
            assert_eq!(started["post"]["body"], vector, "the markdown is kept as written");
            let thread = id_of(&started["thread"]);
            let opening = id_of(&started["post"]);
            assert_harmless(started["post"]["bodyHtml"].as_str().expect("html"), vector);

            let response = reply_raw(&server, Some(&c.carl), json!({ "threadId": thread, "body": vector })).await;
            assert_harmless(payload(&response, "postReply")["post"]["bodyHtml"].as_str().expect("html"), vector);
            let edited = format!("Edited: {vector}");
            let response = edit(&server, Some(&c.ben), &opening, &edited).await;
            assert_harmless(payload(&response, "editPost")["post"]["bodyHtml"].as_str().expect("html"), &edited);

            // What is stored and read back is as harmless.
            let read = server
                .ok(
                    None,
                    "query($id: ID!) { node(id: $id) { ... on Thread { title posts(first: 10) { nodes { body bodyHtml } } } } }",
                    json!({ "id": thread }),
                )
                .await["node"]
                .clone();
            assert_eq!(read["title"], vector);
            let nodes = read["posts"]["nodes"].as_array().expect("nodes");
            assert_eq!(nodes.len(), 2);
            assert_eq!(nodes[0]["body"], edited.as_str());
            assert_eq!(nodes[1]["body"], vector);
            for node in nodes {
                let html = node["bodyHtml"].as_str().expect("html");
                assert_harmless(html, vector);
                links.extend(tags(html).into_iter().filter(|t| t.name == "a").flat_map(|t| t.attributes));
            }
        }
        // The scanner is not blind: the control's links are there.
        assert!(links.contains(&("href".to_owned(), "https://example.org/safe".to_owned())), "{links:?}");
        assert!(links.contains(&("href".to_owned(), "mailto:help@example.org".to_owned())), "{links:?}");

        // Titles are listed as given too.
        let listed = group_threads(&server, &c.ben, c.slug).await;
        let titles: HashSet<&str> = listed["nodes"].as_array().expect("nodes").iter().map(|t| t["title"].as_str().expect("title")).collect();
        for vector in XSS_CORPUS {
            assert!(titles.contains(vector), "{vector:?} is listed as given");
        }
    })
    .await;
}

/// Links a recording may not carry: anything but http and https.
const BAD_URLS: &[&str] = &[
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https:/\\evil.example",
];

/// A filename a browser must never read as markup or as a second header parameter.
const BAD_FILENAME: &str = "<img src=x onerror=alert(1)>\";x=\"y.pdf";

/// Reads every string of a response, and judges it by the kind of field it is: HTML must be
/// harmless, URLs http(s) or relative, everything else plain data. Returns the plain strings.
fn judge(value: &Value, key: &str, source: &str, plain: &mut HashSet<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| judge(v, k, source, plain)),
        Value::Array(items) => items.iter().for_each(|v| judge(v, key, source, plain)),
        Value::String(text) if key.ends_with("Html") => assert_harmless(text, source),
        Value::String(url) if key.ends_with("Url") => {
            let scheme = url_scheme(url);
            assert!(
                scheme
                    .as_deref()
                    .is_none_or(|s| s == "http" || s == "https"),
                "{key} = {url:?}"
            );
            assert!(
                scheme.is_some() || url.starts_with("/files/"),
                "{key} = {url:?} is an http(s) link or a file of ours"
            );
        }
        Value::String(text) => {
            plain.insert(text.clone());
        }
        _ => {}
    }
}

#[tokio::test]
async fn an_xss_corpus_in_every_text_field_stays_data_or_harmless_html() {
    each_backend(|server| async move {
        // Short fields take the vectors that fit them.
        let short: Vec<&str> = XSS_CORPUS.iter().copied().filter(|v| v.chars().count() <= 80).take(8).collect();
        let owner = server.register("olga").await;
        let mut people: Vec<User> = Vec::new();
        for (i, vector) in short.iter().enumerate() {
            let handle = format!("xss-{i}");
            let body = mutate(&server, None, "register", json!({ "handle": handle, "email": format!("{handle}@example.org"), "password": crate::harness::PASSWORD, "displayName": vector }), "token viewer { id displayName }").await;
            let data = payload(&body, "register");
            assert_eq!(data["viewer"]["displayName"], *vector, "a display name is kept as written");
            people.push(User { id: id_of(&data["viewer"]), handle, token: data["token"].as_str().expect("token").to_owned() });
        }
        let group = server.create_group(&owner, "xss-circle", "PUBLIC", "REQUEST").await;
        for (i, vector) in short.iter().enumerate() {
            let body = mutate(&server, Some(&owner), "createGroup", json!({ "slug": format!("xss-{i}"), "name": vector, "description": vector, "visibility": "PUBLIC", "joinPolicy": "OPEN" }), "group { name description }").await;
            assert_eq!(payload(&body, "createGroup")["group"]["name"], *vector);
        }
        // Each person applies with a vector, and is admitted with another as the reason.
        let mut memberships = Vec::new();
        for (person, vector) in people.iter().zip(XSS_CORPUS) {
            let asked = join(&server, person, &group, Some(vector)).await;
            let id = id_of(&payload(&asked, "joinGroup")["membership"]);
            memberships.push(id.clone());
        }
        let applied = server.ok(Some(&owner.token), "{ group(slug: \"xss-circle\") { pendingMemberships(first: 100) { nodes { application } } } }", json!({})).await;
        let mut plain = HashSet::new();
        judge(&applied, "", "applications", &mut plain);
        for (id, vector) in memberships.iter().zip(XSS_CORPUS.iter().rev()) {
            payload(&mutate(&server, Some(&owner), "approveMembership", json!({ "membershipId": id, "reason": vector }), "membership { id }").await, "approveMembership");
        }
        payload(&mutate(&server, Some(&owner), "updateGroup", json!({ "groupId": group, "description": XSS_CORPUS.join("\n") }), "group { id }").await, "updateGroup");

        let author = &people[0];
        for (i, vector) in XSS_CORPUS.iter().enumerate() {
            let started = payload(&start_thread_raw(&server, Some(author), json!({ "groupId": group, "title": vector, "body": vector })).await, "startThread").clone();
            let thread = id_of(&started["thread"]);
            let opening = id_of(&started["post"]);
            let reply = id_of(&payload(&reply_raw(&server, Some(&people[1]), json!({ "threadId": thread, "body": vector, "replyToId": opening })).await, "postReply")["post"]);
            payload(&edit(&server, Some(author), &opening, &format!("Edited {vector}")).await, "editPost");
            payload(&mutate(&server, Some(&owner), "deletePost", json!({ "postId": reply, "reason": vector }), "post { id }").await, "deletePost");
            let presentation = json!({ "groupId": group, "threadId": thread, "title": vector, "description": vector, "speakers": [vector], "recordingUrl": "https://example.org/r" });
            shared(&share(&server, author, presentation, (i == 0).then(|| FilePart::pdf(BAD_FILENAME, PDF))).await);
            if i % 4 == 0 {
                payload(&mutate(&server, Some(&owner), "pinThread", json!({ "threadId": thread }), "thread { id }").await, "pinThread");
            }
        }
        let revisions = server.ok(Some(&owner.token), "{ group(slug: \"xss-circle\") { threads(first: 100) { nodes { posts(first: 1) { nodes { revisions { nodes { id } } } } } } } }", json!({})).await;
        let revision = revisions["group"]["threads"]["nodes"][0]["posts"]["nodes"][0]["revisions"]["nodes"][0]["id"].clone();
        payload(&mutate(&server, Some(&owner), "redactRevision", json!({ "revisionId": revision, "reason": XSS_CORPUS[0] }), "revision { id }").await, "redactRevision");
        let removed = memberships.last().expect("a member");
        payload(&mutate(&server, Some(&owner), "removeMember", json!({ "membershipId": removed, "reason": XSS_CORPUS[1] }), "deletedId").await, "removeMember");
        payload(&mutate(&server, Some(&owner), "banMember", json!({ "groupId": group, "userId": people[2].id, "reason": XSS_CORPUS[2] }), "membership { id }").await, "banMember");

        // Everything, read back through every field of the schema: the group, its threads and
        // posts, and the listing of every group.
        for body in read_everything(&server, &owner.token, "xss-circle").await {
            judge(&body, "", "the corpus", &mut plain);
        }
        let listing = &schema().group_parts()[0].1.text;
        let response = server
            .client
            .post(format!("{}/graphql", server.url))
            .bearer_auth(&owner.token)
            .json(&json!({ "query": format!("{{ groups(first: 50) {{ nodes {{ {listing} }} }} }}") }))
            .send()
            .await
            .expect("sent");
        let media = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(media.starts_with("application/json"), "text comes back as JSON data: {media}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{body:#}");
        judge(&body, "", "the corpus", &mut plain);
        let text: String = plain.iter().cloned().collect::<Vec<_>>().join("\n");

        // The plain fields hold the vectors exactly as written: data, not markup.
        for vector in XSS_CORPUS {
            assert!(plain.contains(*vector), "{vector:?} comes back as written");
        }
        assert!(plain.contains(&XSS_CORPUS.join("\n")), "the group description comes back as written");
        for vector in &short {
            assert!(plain.contains(*vector), "{vector:?} as a name comes back as written");
        }
        for reason_of in ["MEMBER_APPROVED", "MEMBER_REMOVED", "MEMBER_BANNED", "POST_DELETED", "REVISION_REDACTED"] {
            assert!(text.contains(reason_of), "the log shows {reason_of}");
        }

        // A hostile file name is data too: an attachment whose header holds no markup and no
        // second parameter.
        let files = server.ok(Some(&owner.token), "{ group(slug: \"xss-circle\") { presentations(first: 100) { nodes { id file { filename } } } } }", json!({})).await;
        let with_file = files["group"]["presentations"]["nodes"].as_array().expect("nodes").iter().find(|p| !p["file"].is_null()).expect("a file").clone();
        let response = download(&server, Some(&owner), &id_of(&with_file), None).await;
        let disposition = response.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (fallback, rest) = disposition.strip_prefix("attachment; filename=\"").and_then(|r| r.split_once('"')).unwrap_or_else(|| panic!("{disposition}"));
        assert!(!fallback.contains('<') && !fallback.contains('>'), "{disposition}");
        assert!(rest.starts_with("; filename*=UTF-8''") && !rest[2..].contains(';') && !rest.contains('"'), "{disposition}");

        // Links that are not http(s) are refused, and nothing is shared.
        for url in BAD_URLS {
            let body = mutate(&server, Some(author), "sharePresentation", json!({ "groupId": group, "title": "Link", "recordingUrl": url }), "presentation { recordingUrl }").await;
            assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url:?}: {body:#}");
        }
        let count = server.ok(Some(&owner.token), "{ group(slug: \"xss-circle\") { presentations { totalCount } } }", json!({})).await;
        assert_eq!(count["group"]["presentations"]["totalCount"], XSS_CORPUS.len());
    })
    .await;
}
