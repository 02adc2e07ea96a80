//! The content type of an upload, decided from its first bytes against the allow-list.
//!
//! `infer` recognises the single-signature formats. Office documents are ZIP archives, told
//! apart by their entry names, and `infer` only finds those names in the entry order Microsoft
//! Office writes: files saved by LibreOffice or python-docx, with `docProps/` before the
//! document's parts, come out as `application/zip` (bojand/infer#130). So the ZIP local file
//! headers are walked here instead.

pub(super) const PDF: &str = "application/pdf";
pub(super) const PPTX: &str =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";
pub(super) const ODP: &str = "application/vnd.oasis.opendocument.presentation";
pub(super) const DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub(super) const MP4: &str = "video/mp4";
pub(super) const WEBM: &str = "video/webm";
pub(super) const PNG: &str = "image/png";
pub(super) const JPEG: &str = "image/jpeg";

const ALLOWED: &[&str] = &[PDF, PPTX, ODP, DOCX, MP4, WEBM, PNG, JPEG];

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ZIP: &str = "application/zip";
/// OpenDocument types other than presentations, named so that a refusal says what was seen.
const ODF_OTHERS: &[&str] = &[
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.graphics",
];

/// The allowed content type of a file starting with `head`, or, refused, what it looks like
/// (`"unknown"` when nothing matched). `head` should hold at least the first 64 KiB when the
/// file is that long: an Office document's telling entry may come after a few others.
pub(super) fn content_type(head: &[u8]) -> Result<&'static str, &'static str> {
    match detect(head) {
        Some(found) if ALLOWED.contains(&found) => Ok(found),
        Some(found) => Err(found),
        None => Err("unknown"),
    }
}

fn detect(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(zip::LOCAL_HEADER) {
        return Some(zip::detect(head));
    }
    // `infer` takes `%PDF` anywhere in the first KiB, so a script with the marker in a
    // comment would pass; a real PDF starts with its header.
    if head.starts_with(b"%PDF-") {
        return Some(PDF);
    }
    infer::get(head)
        .map(|kind| kind.mime_type())
        .filter(|&found| found != PDF)
}

mod zip {
    use super::{DOCX, ODF_OTHERS, ODP, PPTX, XLSX, ZIP};

    pub(super) const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
    const HEADER_LEN: usize = 30;
    /// Bit 3 of the flags: sizes follow the data instead of being in the header.
    const DATA_DESCRIPTOR: u16 = 1 << 3;
    const STORED: u16 = 0;

    /// An archive whose first entry is a stored `mimetype` is an OpenDocument file of that
    /// type; one with Office Open XML package parts under `ppt/` or `word/` is PPTX or DOCX.
    pub(super) fn detect(buf: &[u8]) -> &'static str {
        let mut package = false;
        let mut part_kind = None;
        for (index, entry) in entries(buf).enumerate() {
            if index == 0 && entry.name == b"mimetype" {
                return opendocument(&entry);
            }
            match entry.name {
                b"[Content_Types].xml" | b"_rels/.rels" => package = true,
                name if part_kind.is_none() => part_kind = ooxml_part(name),
                _ => {}
            }
            if let (true, Some(kind)) = (package, part_kind) {
                return kind;
            }
        }
        ZIP
    }

    fn opendocument(entry: &Entry<'_>) -> &'static str {
        if entry.method != STORED {
            return ZIP;
        }
        match entry.data {
            Some(data) if data == ODP.as_bytes() => ODP,
            Some(data) => ODF_OTHERS
                .iter()
                .find(|other| data == other.as_bytes())
                .copied()
                .unwrap_or(ZIP),
            None => ZIP,
        }
    }

    fn ooxml_part(name: &[u8]) -> Option<&'static str> {
        if name.starts_with(b"ppt/") {
            Some(PPTX)
        } else if name.starts_with(b"word/") {
            Some(DOCX)
        } else if name.starts_with(b"xl/") {
            Some(XLSX)
        } else {
            None
        }
    }

    struct Entry<'a> {
        name: &'a [u8],
        method: u16,
        /// The entry's bytes as stored, when its size is in the header and they are in `buf`.
        data: Option<&'a [u8]>,
    }

    /// The local file headers at the start of `buf`, in order, until one is cut off.
    fn entries(buf: &[u8]) -> impl Iterator<Item = Entry<'_>> {
        let mut at = Some(0);
        std::iter::from_fn(move || {
            let start = at?;
            let (entry, next) = parse(buf, start)?;
            at = next;
            Some(entry)
        })
    }

    /// The entry at `start` and where the next header starts, if that can be known.
    fn parse(buf: &[u8], start: usize) -> Option<(Entry<'_>, Option<usize>)> {
        let header = buf.get(start..start.checked_add(HEADER_LEN)?)?;
        if !header.starts_with(LOCAL_HEADER) {
            return None;
        }
        let flags = le16(header, 6);
        let method = le16(header, 8);
        let compressed = le32(header, 18);
        let name_len = usize::from(le16(header, 26));
        let extra_len = usize::from(le16(header, 28));
        let name_start = start + HEADER_LEN;
        let name = buf.get(name_start..name_start + name_len)?;
        let data_start = name_start + name_len + extra_len;
        // ZIP64 puts the real size in the extra field; a data descriptor puts it after the data.
        let size_known =
            compressed != u32::MAX && (compressed != 0 || flags & DATA_DESCRIPTOR == 0);
        let (data, next) = if size_known {
            let data_end = usize::try_from(compressed)
                .ok()
                .and_then(|len| data_start.checked_add(len));
            let data = data_end.and_then(|end| buf.get(data_start..end));
            (data, data_end)
        } else {
            let next = buf
                .get(data_start..)
                .and_then(|rest| find(rest, LOCAL_HEADER))
                .map(|offset| data_start + offset);
            (None, next)
        };
        Some((Entry { name, method, data }, next))
    }

    fn le16(header: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([header[at], header[at + 1]])
    }

    fn le32(header: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A minimal ZIP archive: local headers, then the central directory. CRCs are left at
    /// zero (nothing here checks them). With `descriptors`, sizes go in data descriptors
    /// after each entry, as streaming writers (LibreOffice among them) do.
    pub(crate) fn zip(entries: &[(&str, &[u8])], descriptors: bool) -> Vec<u8> {
        fn u16le(out: &mut Vec<u8>, value: usize) {
            out.extend_from_slice(&u16::try_from(value).unwrap_or(u16::MAX).to_le_bytes());
        }
        fn u32le(out: &mut Vec<u8>, value: usize) {
            out.extend_from_slice(&u32::try_from(value).unwrap_or(u32::MAX).to_le_bytes());
        }
        let flags = if descriptors { 1 << 3 } else { 0 };
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = out.len();
            let header_size = if descriptors { 0 } else { data.len() };
            out.extend_from_slice(b"PK\x03\x04");
            u16le(&mut out, 20);
            u16le(&mut out, flags);
            u16le(&mut out, 0); // stored
            u32le(&mut out, 0); // time, date
            u32le(&mut out, 0); // crc
            u32le(&mut out, header_size);
            u32le(&mut out, header_size);
            u16le(&mut out, name.len());
            u16le(&mut out, 0);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            if descriptors {
                out.extend_from_slice(b"PK\x07\x08");
                u32le(&mut out, 0);
                u32le(&mut out, data.len());
                u32le(&mut out, data.len());
            }
            central.extend_from_slice(b"PK\x01\x02");
            u16le(&mut central, 20);
            u16le(&mut central, 20);
            u16le(&mut central, flags);
            u16le(&mut central, 0);
            u32le(&mut central, 0);
            u32le(&mut central, 0);
            u32le(&mut central, data.len());
            u32le(&mut central, data.len());
            u16le(&mut central, name.len());
            u16le(&mut central, 0);
            u16le(&mut central, 0);
            u16le(&mut central, 0);
            u16le(&mut central, 0);
            u32le(&mut central, 0);
            u32le(&mut central, offset);
            central.extend_from_slice(name.as_bytes());
        }
        let central_offset = out.len();
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        u16le(&mut out, 0);
        u16le(&mut out, 0);
        u16le(&mut out, entries.len());
        u16le(&mut out, entries.len());
        u32le(&mut out, central.len());
        u32le(&mut out, central_offset);
        u16le(&mut out, 0);
        out
    }

    const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;
    const RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>"#;
    const XML: &[u8] = b"<?xml version=\"1.0\"?><x/>";

    /// The entry order PowerPoint writes.
    pub(crate) fn pptx() -> Vec<u8> {
        zip(
            &[
                ("[Content_Types].xml", CONTENT_TYPES),
                ("_rels/.rels", RELS),
                ("ppt/slides/_rels/slide1.xml.rels", XML),
                ("ppt/_rels/presentation.xml.rels", XML),
                ("ppt/presentation.xml", XML),
                ("ppt/slides/slide1.xml", XML),
                ("docProps/core.xml", XML),
            ],
            false,
        )
    }

    /// The entry order Word writes.
    fn docx() -> Vec<u8> {
        zip(
            &[
                ("[Content_Types].xml", CONTENT_TYPES),
                ("_rels/.rels", RELS),
                ("word/document.xml", XML),
                ("word/_rels/document.xml.rels", XML),
                ("docProps/core.xml", XML),
            ],
            false,
        )
    }

    /// The entry order LibreOffice writes for OOXML: package parts before `[Content_Types].xml`.
    fn libreoffice(part: &str, descriptors: bool) -> Vec<u8> {
        let main = format!("{part}/document.xml");
        zip(
            &[
                ("_rels/.rels", RELS),
                ("docProps/app.xml", XML),
                ("docProps/core.xml", XML),
                (main.as_str(), XML),
                ("[Content_Types].xml", CONTENT_TYPES),
            ],
            descriptors,
        )
    }

    pub(crate) fn odf(mimetype: &str) -> Vec<u8> {
        zip(
            &[
                ("mimetype", mimetype.as_bytes()),
                ("content.xml", XML),
                ("META-INF/manifest.xml", XML),
            ],
            false,
        )
    }

    fn mp4() -> Vec<u8> {
        let mut buf = vec![0, 0, 0, 0x20];
        buf.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
        buf.extend_from_slice(&[0; 64]);
        buf
    }

    fn webm() -> Vec<u8> {
        let mut buf = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f];
        buf.extend_from_slice(b"\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08");
        buf.extend_from_slice(b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02");
        buf.extend_from_slice(&[0; 300]);
        buf
    }

    #[test]
    fn office_documents_are_told_apart_by_their_entries() {
        assert_eq!(content_type(&pptx()), Ok(PPTX));
        assert_eq!(content_type(&docx()), Ok(DOCX));
        assert_eq!(content_type(&odf(ODP)), Ok(ODP));
    }

    #[test]
    fn libreoffice_entry_order_and_data_descriptors_are_recognised() {
        for descriptors in [false, true] {
            assert_eq!(content_type(&libreoffice("ppt", descriptors)), Ok(PPTX));
            assert_eq!(content_type(&libreoffice("word", descriptors)), Ok(DOCX));
            assert_eq!(
                content_type(&libreoffice("xl", descriptors)),
                Err(XLSX),
                "spreadsheets are not on the list"
            );
        }
    }

    #[test]
    fn a_prefix_is_enough() {
        let mut big = vec![("[Content_Types].xml", CONTENT_TYPES.to_vec())];
        big.push(("_rels/.rels", RELS.to_vec()));
        big.push(("ppt/media/image1.png", vec![7; 200_000]));
        let entries: Vec<(&str, &[u8])> = big.iter().map(|(n, d)| (*n, d.as_slice())).collect();
        let archive = zip(&entries, false);
        assert_eq!(content_type(&archive[..64 * 1024]), Ok(PPTX));
    }

    #[test]
    fn other_archives_are_refused() {
        assert_eq!(
            content_type(&zip(&[("hello.txt", b"hello")], false)),
            Err(ZIP)
        );
        assert_eq!(
            content_type(&odf("application/vnd.oasis.opendocument.text")),
            Err("application/vnd.oasis.opendocument.text")
        );
        // Package parts without the package's own files are not an Office document.
        assert_eq!(
            content_type(&zip(&[("ppt/slide.xml", XML)], false)),
            Err(ZIP)
        );
        // `mimetype` counts only as the first entry.
        assert_eq!(
            content_type(&zip(
                &[("a.txt", b"a"), ("mimetype", ODP.as_bytes())],
                false
            )),
            Err(ZIP)
        );
    }

    #[test]
    fn single_signature_formats() {
        assert_eq!(content_type(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Ok(PDF));
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(PNG));
        assert_eq!(content_type(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Ok(JPEG));
        assert_eq!(content_type(&mp4()), Ok(MP4));
        assert_eq!(content_type(&webm()), Ok(WEBM));
    }

    #[test]
    fn everything_else_is_refused() {
        assert_eq!(
            content_type(b"#!/bin/sh\nrm -rf ~\n"),
            Err("text/x-shellscript")
        );
        assert_eq!(
            content_type(b"#!/bin/sh\n# %PDF-1.7\nrm -rf ~\n"),
            Err("unknown"),
            "a PDF marker after the start does not make a PDF"
        );
        assert_eq!(content_type(b"GIF89a\x01\0\x01\0"), Err("image/gif"));
        assert_eq!(
            content_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Err("unknown")
        );
        assert_eq!(content_type(b"plain words"), Err("unknown"));
        assert_eq!(content_type(b"PK\x03\x04"), Err(ZIP), "a cut-off header");
    }
}
