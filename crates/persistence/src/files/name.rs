//! The client's file name, kept for display and `Content-Disposition` only: the storage key
//! never derives from it, but a name shown to other members must not carry a path or
//! characters that rewrite how it looks.

const MAX_CHARS: usize = 255;
const FALLBACK: &str = "file";

/// The last path component of `raw` (after `/` or `\`), without control characters or
/// bidirectional overrides (which can make `exe.pdf` read as `fdp.exe`), trimmed and capped
/// at 255 characters; `"file"` when nothing is left.
pub(super) fn for_display(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .collect();
    let capped: String = cleaned.trim().chars().take(MAX_CHARS).collect();
    let capped = capped.trim_end();
    if capped.is_empty() || capped == "." || capped == ".." {
        FALLBACK.to_owned()
    } else {
        capped.to_owned()
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::for_display;

    #[test]
    fn keeps_ordinary_names() {
        assert_eq!(
            for_display("Slides – Geneva 2024.pdf"),
            "Slides – Geneva 2024.pdf"
        );
        assert_eq!(for_display("  padded.pdf "), "padded.pdf");
    }

    #[test]
    fn strips_directories() {
        assert_eq!(for_display("../../etc/passwd"), "passwd");
        assert_eq!(for_display("/etc/passwd"), "passwd");
        assert_eq!(for_display("..\\..\\Windows\\win.ini"), "win.ini");
        assert_eq!(for_display("C:\\Users\\me\\talk.pptx"), "talk.pptx");
        assert_eq!(for_display("mixed/..\\both.pdf"), "both.pdf");
    }

    #[test]
    fn strips_control_and_bidi_characters() {
        assert_eq!(for_display("a\0b\r\nc\t.pdf"), "abc.pdf");
        assert_eq!(for_display("report\u{202e}fdp.exe"), "reportfdp.exe");
        assert_eq!(for_display("x\u{7f}\u{9b}y"), "xy");
    }

    #[test]
    fn caps_the_length_in_characters() {
        let long = "é".repeat(300);
        assert_eq!(for_display(&long).chars().count(), 255);
        assert_eq!(
            for_display(&format!("{}.pdf", "a".repeat(400))),
            "a".repeat(255)
        );
    }

    #[test]
    fn falls_back_when_nothing_is_left() {
        for raw in [
            "",
            "   ",
            "dir/",
            "..",
            ".",
            "../..",
            "\0\u{1b}",
            "a/\u{202e}",
        ] {
            assert_eq!(for_display(raw), "file", "{raw:?}");
        }
    }
}
