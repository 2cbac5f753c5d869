//! Reading an uploaded CSV file from its spooled copy with bounded memory, twice: the first
//! pass checks the whole file — the header's required columns, strict quoting, equal row
//! lengths, text that can be stored (UTF-8 without NUL), the row limit — and rejects it with a
//! message naming the line; the second hands its rows over in chunks to be stored.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};
use tenancy::imports::{ImportKind, ImportRow, MAX_ROWS, column_key};

/// What the first pass found: the file can be imported.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Data rows (blank lines not counted).
    pub rows: usize,
    headers: Vec<String>,
}

/// Checks the whole file; any structural problem rejects it all.
pub fn check_csv(path: &Path, kind: ImportKind) -> Result<Checked, String> {
    check_quotes(open(path)?)?;
    let mut reader = csv_reader(path)?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("The header row could not be read: {e}."))?
        .iter()
        .map(column_key)
        .collect();
    let has = |key: &str| headers.iter().any(|h| h == key);
    let missing: Vec<&str> = kind
        .required_columns()
        .iter()
        .copied()
        .filter(|c| !has(c))
        .collect();
    if !missing.is_empty() {
        let expected = match kind {
            ImportKind::Users => {
                "userName (and optionally givenName, familyName, email, displayName, active)"
            }
            ImportKind::Cards => "cardNumber and userName or email",
        };
        let missing: Vec<&str> = missing.into_iter().map(column_name).collect();
        return Err(format!(
            "The file has no {} column. Expected columns: {expected}.",
            missing.join(", ")
        ));
    }
    if kind == ImportKind::Cards && !has("username") && !has("email") {
        return Err(
            "A cards file needs a userName or an email column to find each card's user.".into(),
        );
    }
    let mut rows = 0;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(malformed(&e)),
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.iter().any(|field| field.contains('\0')) {
            return Err(format!(
                "Line {} contains a NUL character (an invisible control character), which cannot be stored. Remove it and upload the file again.",
                line_of(&record)
            ));
        }
        rows += 1;
        if rows > MAX_ROWS {
            return Err(format!(
                "The file has more than {MAX_ROWS} rows; split it into smaller files."
            ));
        }
    }
    if rows == 0 {
        return Err("The file has a header row but no data rows.".into());
    }
    Ok(Checked { rows, headers })
}

/// The rows of a checked file, `chunk` at a time: `(line, column key -> value)`.
pub fn read_rows(
    path: &Path,
    checked: &Checked,
    chunk: usize,
) -> Result<impl Iterator<Item = Result<Vec<ImportRow>, String>>, String> {
    let mut records = csv_reader(path)?.into_records();
    let headers = checked.headers.clone();
    let chunk = chunk.max(1);
    Ok(std::iter::from_fn(move || {
        let mut rows = Vec::with_capacity(chunk);
        while rows.len() < chunk {
            match records.next() {
                None => break,
                Some(Err(e)) => return Some(Err(malformed(&e))),
                Some(Ok(record)) if record.iter().all(str::is_empty) => {}
                Some(Ok(record)) => {
                    let fields: Map<String, Value> = headers
                        .iter()
                        .zip(record.iter())
                        .map(|(h, v)| (h.clone(), Value::String(v.to_owned())))
                        .collect();
                    rows.push((line_of(&record), fields));
                }
            }
        }
        (!rows.is_empty()).then_some(Ok(rows))
    }))
}

fn open(path: &Path) -> Result<BufReader<File>, String> {
    let mut file = BufReader::with_capacity(
        64 * 1024,
        File::open(path).map_err(|_| "The upload could not be read back.".to_owned())?,
    );
    // A UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name.
    let bom = file
        .fill_buf()
        .map(|start| start.starts_with(b"\xEF\xBB\xBF"))
        .unwrap_or(false);
    if bom {
        file.consume(3);
    }
    Ok(file)
}

fn csv_reader(path: &Path) -> Result<csv::Reader<BufReader<File>>, String> {
    Ok(csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(open(path)?))
}

fn line_of(record: &csv::StringRecord) -> i32 {
    record
        .position()
        .map_or(0, |p| i32::try_from(p.line()).unwrap_or(i32::MAX))
}

fn malformed(e: &csv::Error) -> String {
    match e.position() {
        Some(pos) => format!("Line {} is malformed: {e}.", pos.line()),
        None => format!("The file is malformed: {e}."),
    }
}

/// A required column as the person wrote it in the file's header, rather than its key.
fn column_name(key: &str) -> &str {
    match key {
        "username" => "userName",
        "cardnumber" => "cardNumber",
        other => other,
    }
}

/// Rejects quoting the lenient CSV reader would silently accept: a quoted value that is never
/// closed (it swallows the following lines as one value), one that runs over a line break (no
/// column of ours holds one), and text right after a closing quote. Quotes inside an unquoted
/// value are ordinary characters, as in RFC 4180 readers. Reads the file once, byte by byte.
fn check_quotes(input: impl Read) -> Result<(), String> {
    let malformed = |line: usize, what: &str| Err(format!("Line {line} is malformed: {what}."));
    let mut bytes = BufReader::new(input)
        .bytes()
        .map_while(Result::ok)
        .peekable();
    let mut line = 1;
    let mut field_start = true;
    while let Some(byte) = bytes.next() {
        if field_start && byte == b'"' {
            let opened = line;
            loop {
                match bytes.next() {
                    None => return malformed(opened, "a quoted value is never closed"),
                    Some(b'\n' | b'\r') => {
                        return malformed(
                            opened,
                            "a quoted value runs over a line break (is a closing quote missing?)",
                        );
                    }
                    Some(b'"') if bytes.peek() == Some(&b'"') => {
                        bytes.next();
                    }
                    Some(b'"') => break,
                    Some(_) => {}
                }
            }
            match bytes.peek() {
                None | Some(b',' | b'\n' | b'\r') => field_start = false,
                Some(_) => return malformed(line, "there is text after a closing quote"),
            }
            continue;
        }
        field_start = matches!(byte, b',' | b'\n' | b'\r');
        if byte == b'\n' {
            line += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_quotes;

    fn quotes(text: &[u8]) -> Result<(), String> {
        check_quotes(text)
    }

    #[test]
    fn well_formed_quoting_passes() {
        assert!(quotes(b"a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n5\" floppy,\"\"\n").is_ok());
        assert!(quotes(b"a,\"b\"").is_ok());
    }

    #[test]
    fn broken_quoting_names_the_line() {
        assert_eq!(
            quotes(b"a,b\nx,\"y\nz,w\n"),
            Err("Line 2 is malformed: a quoted value runs over a line break (is a closing quote missing?).".into())
        );
        assert_eq!(
            quotes(b"a,b\nx,\"y"),
            Err("Line 2 is malformed: a quoted value is never closed.".into())
        );
        assert_eq!(
            quotes(b"a,b\n\"x\"y,z\n"),
            Err("Line 2 is malformed: there is text after a closing quote.".into())
        );
    }
}
