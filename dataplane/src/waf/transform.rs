//! Text transformations (SPEC §19.4): applied to a request component before a statement
//! inspects it, in ascending `Priority`, each one's output feeding the next.
//!
//! Every transformation writes into a buffer the caller owns, so a request inspected with
//! transformations allocates only until the buffers have grown to the largest component seen.

use md5::Digest as _;

/// One `TextTransformation` `Type`, as AWS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextTransformation {
    /// `NONE`.
    None,
    /// `LOWERCASE`.
    Lowercase,
    /// `UPPERCASE`.
    Uppercase,
    /// `COMPRESS_WHITE_SPACE`: tab, LF, VT, FF, CR and NBSP become spaces, runs collapse to one.
    CompressWhiteSpace,
    /// `HTML_ENTITY_DECODE`: `&quot;`, `&nbsp;`, `&lt;`, `&gt;`, `&#xhh;` and `&#nnn;`.
    HtmlEntityDecode,
    /// `URL_DECODE`: `%hh` and `+`.
    UrlDecode,
    /// `URL_DECODE_UNI`: as `URL_DECODE`, and `%uHHHH`.
    UrlDecodeUni,
    /// `CMD_LINE`: the command-line obfuscation cleanup AWS documents.
    CmdLine,
    /// `BASE64_DECODE`: decodes up to the first character outside the alphabet.
    Base64Decode,
    /// `BASE64_DECODE_EXT`: decodes, skipping characters outside the alphabet.
    Base64DecodeExt,
    /// `HEX_DECODE`: a string of hex digit pairs becomes its bytes.
    HexDecode,
    /// `MD5`: the raw 16-byte digest.
    Md5,
    /// `SHA256`: the raw 32-byte digest.
    Sha256,
    /// `REPLACE_COMMENTS`: each `/*…*/` (or unterminated `/*…`) becomes one space.
    ReplaceComments,
    /// `REMOVE_COMMENTS_CHAR`: deletes `/*`, `*/`, `--` and `#`.
    RemoveCommentsChar,
    /// `ESCAPE_SEQ_DECODE`: ANSI C escapes (`\n`, `\x41`, `\101`, ...).
    EscapeSeqDecode,
    /// `SQL_HEX_DECODE`: `0x414243` becomes `ABC`.
    SqlHexDecode,
    /// `NORMALIZE_PATH`: repeated slashes, `./` and `../` (not at the start) removed.
    NormalizePath,
    /// `NORMALIZE_PATH_WIN`: backslashes become slashes, then `NORMALIZE_PATH`.
    NormalizePathWin,
    /// `REMOVE_NULLS`.
    RemoveNulls,
    /// `REPLACE_NULLS`: NUL becomes a space.
    ReplaceNulls,
    /// `REMOVE_WHITESPACE`.
    RemoveWhitespace,
    /// `TRIM`.
    Trim,
    /// `TRIM_LEFT`.
    TrimLeft,
    /// `TRIM_RIGHT`.
    TrimRight,
    /// A transformation AWS defines whose exact algorithm vpcsim does not reproduce
    /// (`CSS_DECODE`, `JS_DECODE`, `JS_DECODE_EXT`, `UTF8_TO_UNICODE`, `CMD_LINE_WIN`,
    /// `CMD_LINE_UNIX`): a statement using it is reported as not evaluated.
    NotSimulated(&'static str),
}

const NOT_SIMULATED: &[&str] = &[
    "CSS_DECODE",
    "JS_DECODE",
    "JS_DECODE_EXT",
    "UTF8_TO_UNICODE",
    "CMD_LINE_WIN",
    "CMD_LINE_UNIX",
];

impl TextTransformation {
    /// The transformation named `name` (AWS's `Type`), or `None` when AWS defines no such type.
    pub fn from_aws(name: &str) -> Option<TextTransformation> {
        use TextTransformation::*;
        Some(match name {
            "NONE" => None,
            "LOWERCASE" => Lowercase,
            "UPPERCASE" => Uppercase,
            "COMPRESS_WHITE_SPACE" => CompressWhiteSpace,
            "HTML_ENTITY_DECODE" => HtmlEntityDecode,
            "URL_DECODE" => UrlDecode,
            "URL_DECODE_UNI" => UrlDecodeUni,
            "CMD_LINE" => CmdLine,
            "BASE64_DECODE" => Base64Decode,
            "BASE64_DECODE_EXT" => Base64DecodeExt,
            "HEX_DECODE" => HexDecode,
            "MD5" => Md5,
            "SHA256" => Sha256,
            "REPLACE_COMMENTS" => ReplaceComments,
            "REMOVE_COMMENTS_CHAR" => RemoveCommentsChar,
            "ESCAPE_SEQ_DECODE" => EscapeSeqDecode,
            "SQL_HEX_DECODE" => SqlHexDecode,
            "NORMALIZE_PATH" => NormalizePath,
            "NORMALIZE_PATH_WIN" => NormalizePathWin,
            "REMOVE_NULLS" => RemoveNulls,
            "REPLACE_NULLS" => ReplaceNulls,
            "REMOVE_WHITESPACE" => RemoveWhitespace,
            "TRIM" => Trim,
            "TRIM_LEFT" => TrimLeft,
            "TRIM_RIGHT" => TrimRight,
            other => NotSimulated(NOT_SIMULATED.iter().find(|n| **n == other)?),
        })
    }

    /// Write the transformation of `input` into `out` (cleared first).
    pub fn apply(self, input: &[u8], out: &mut Vec<u8>) {
        use TextTransformation::*;
        out.clear();
        match self {
            None | NotSimulated(_) => out.extend_from_slice(input),
            Lowercase => out.extend(input.iter().map(u8::to_ascii_lowercase)),
            Uppercase => out.extend(input.iter().map(u8::to_ascii_uppercase)),
            CompressWhiteSpace => compress_white_space(input, out),
            HtmlEntityDecode => html_entity_decode(input, out),
            UrlDecode => url_decode(input, false, out),
            UrlDecodeUni => url_decode(input, true, out),
            CmdLine => cmd_line(input, out),
            Base64Decode => base64_decode(input, false, out),
            Base64DecodeExt => base64_decode(input, true, out),
            HexDecode => hex_decode(input, out),
            Md5 => out.extend_from_slice(&md5::Md5::digest(input)),
            Sha256 => out.extend_from_slice(&sha2::Sha256::digest(input)),
            ReplaceComments => replace_comments(input, out),
            RemoveCommentsChar => remove_comments_char(input, out),
            EscapeSeqDecode => escape_seq_decode(input, out),
            SqlHexDecode => sql_hex_decode(input, out),
            NormalizePath => normalize_path(input, out),
            NormalizePathWin => {
                let slashed: Vec<u8> = input
                    .iter()
                    .map(|&b| if b == b'\\' { b'/' } else { b })
                    .collect();
                normalize_path(&slashed, out)
            }
            RemoveNulls => out.extend(input.iter().copied().filter(|&b| b != 0)),
            ReplaceNulls => out.extend(input.iter().map(|&b| if b == 0 { b' ' } else { b })),
            RemoveWhitespace => out.extend(input.iter().copied().filter(|&b| !is_space(b))),
            Trim => out.extend_from_slice(trim_right(trim_left(input))),
            TrimLeft => out.extend_from_slice(trim_left(input)),
            TrimRight => out.extend_from_slice(trim_right(input)),
        }
    }
}

/// Apply `chain` (already in priority order) to `input`, using `a` and `b` as scratch; returns
/// the result, which is `input` itself when there is nothing to do.
pub fn apply_chain<'x>(
    chain: &[TextTransformation],
    input: &'x [u8],
    a: &'x mut Vec<u8>,
    b: &'x mut Vec<u8>,
) -> &'x [u8] {
    let mut steps = chain
        .iter()
        .filter(|t| !matches!(t, TextTransformation::None));
    let Some(first) = steps.next() else {
        return input;
    };
    first.apply(input, a);
    for t in steps {
        t.apply(a, b);
        std::mem::swap(a, b);
    }
    a
}

/// Whitespace as `TRIM` and `REMOVE_WHITESPACE` see it: ASCII whitespace, VT and NBSP.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0)
}

fn trim_left(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    &s[start..]
}

fn trim_right(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| !is_space(b)).map_or(0, |i| i + 1);
    &s[..end]
}

fn compress_white_space(input: &[u8], out: &mut Vec<u8>) {
    for &b in input {
        let b = if is_space(b) { b' ' } else { b };
        if !(b == b' ' && out.last() == Some(&b' ')) {
            out.push(b);
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A code point as the decoders emit it: one byte below 256 (as WAF's ModSecurity-derived
/// decoders do), UTF-8 above.
fn push_code_point(code: u32, out: &mut Vec<u8>) {
    if code < 0x100 {
        out.push(code as u8);
    } else if let Some(c) = char::from_u32(code) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

fn html_entity_decode(input: &[u8], out: &mut Vec<u8>) {
    const NAMED: &[(&[u8], u8)] = &[
        (b"&quot;", b'"'),
        (b"&nbsp;", 0xa0),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
    ];
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        if let Some((name, b)) = NAMED.iter().find(|(n, _)| rest.starts_with(n)) {
            out.push(*b);
            i += name.len();
            continue;
        }
        if let Some((code, used)) = numeric_entity(rest) {
            push_code_point(code, out);
            i += used;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
}

/// `&#xhh;` or `&#nnn;` at the start of `s`: the code point and the bytes used.
fn numeric_entity(s: &[u8]) -> Option<(u32, usize)> {
    let body = s.strip_prefix(b"&#")?;
    let (radix, digits) = match body.first() {
        Some(b'x' | b'X') => (16, &body[1..]),
        _ => (10, body),
    };
    let len = digits
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    if len == 0 || len > 8 || digits.get(len) != Some(&b';') {
        return None;
    }
    let text = std::str::from_utf8(&digits[..len]).ok()?;
    let code = u32::from_str_radix(text, radix).ok()?;
    Some((code, 2 + (body.len() - digits.len()) + len + 1))
}

fn url_decode(input: &[u8], unicode: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'+' {
            out.push(b' ');
            i += 1;
            continue;
        }
        if b == b'%' {
            if unicode && matches!(input.get(i + 1), Some(b'u' | b'U')) {
                if let Some(code) = hex_run(input.get(i + 2..i + 6)) {
                    push_code_point(code, out);
                    i += 6;
                    continue;
                }
            }
            if let Some(code) = hex_run(input.get(i + 1..i + 3)) {
                out.push(code as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
}

fn hex_run(digits: Option<&[u8]>) -> Option<u32> {
    digits?
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + u32::from(hex_val(d)?)))
}

fn cmd_line(input: &[u8], out: &mut Vec<u8>) {
    for &b in input {
        match b {
            b'\\' | b'"' | b'\'' | b'^' => {}
            b'/' | b'(' => {
                while out.last() == Some(&b' ') {
                    out.pop();
                }
                out.push(b);
            }
            b',' | b';' | b' ' => {
                if out.last() != Some(&b' ') {
                    out.push(b' ');
                }
            }
            _ => out.push(b.to_ascii_lowercase()),
        }
    }
}

fn base64_value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

fn base64_decode(input: &[u8], skip_invalid: bool, out: &mut Vec<u8>) {
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in input {
        let Some(v) = base64_value(b) else {
            if skip_invalid {
                continue;
            }
            break;
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
}

/// Whole hex-digit pairs; a string that is not entirely hex is left as it is.
fn hex_decode(input: &[u8], out: &mut Vec<u8>) {
    if input.len() % 2 != 0 || !input.iter().all(u8::is_ascii_hexdigit) {
        out.extend_from_slice(input);
        return;
    }
    for pair in input.chunks(2) {
        out.push(hex_run(Some(pair)).unwrap_or(0) as u8);
    }
}

fn replace_comments(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        if input[i..].starts_with(b"/*") {
            out.push(b' ');
            match input[i + 2..].windows(2).position(|w| w == b"*/") {
                Some(p) => i += 2 + p + 2,
                None => return,
            }
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
}

fn remove_comments_char(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        if rest.starts_with(b"/*") || rest.starts_with(b"*/") || rest.starts_with(b"--") {
            i += 2;
        } else if rest[0] == b'#' {
            i += 1;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
}

fn escape_seq_decode(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        if input[i] != b'\\' || i + 1 >= input.len() {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let c = input[i + 1];
        let simple = match c {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'?' | b'\'' | b'"' => Some(c),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            i += 2;
        } else if c == b'x' && hex_run(input.get(i + 2..i + 4)).is_some() {
            out.push(hex_run(input.get(i + 2..i + 4)).unwrap_or(0) as u8);
            i += 4;
        } else if (b'0'..=b'7').contains(&c) {
            let digits = input[i + 1..]
                .iter()
                .take(3)
                .take_while(|d| (b'0'..=b'7').contains(*d))
                .fold((0u32, 0usize), |(v, n), d| {
                    (v * 8 + u32::from(d - b'0'), n + 1)
                });
            out.push(digits.0 as u8);
            i += 1 + digits.1;
        } else {
            out.push(c);
            i += 2;
        }
    }
}

fn sql_hex_decode(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        if rest.len() > 3 && rest[0] == b'0' && matches!(rest[1], b'x' | b'X') {
            let digits = rest[2..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count()
                & !1;
            if digits > 0 {
                for pair in rest[2..2 + digits].chunks(2) {
                    out.push(hex_run(Some(pair)).unwrap_or(0) as u8);
                }
                i += 2 + digits;
                continue;
            }
        }
        out.push(rest[0]);
        i += 1;
    }
}

fn normalize_path(input: &[u8], out: &mut Vec<u8>) {
    let absolute = input.first() == Some(&b'/');
    let trailing = input.len() > 1 && input.last() == Some(&b'/');
    let mut segments: Vec<&[u8]> = Vec::new();
    for seg in input.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." if segments.last().is_some_and(|s| *s != b"..") => {
                segments.pop();
            }
            _ => segments.push(seg),
        }
    }
    if absolute {
        out.push(b'/');
    }
    for (n, seg) in segments.iter().enumerate() {
        if n > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(seg);
    }
    if trailing && out.last() != Some(&b'/') {
        out.push(b'/');
    }
}
