//! Reading an uploaded CSV file as a whole before anything is imported: the header's required
//! columns, strict quoting, equal row lengths and the row limit. Any problem rejects the file
//! with a message naming the line.

use serde_json::{Map, Value};
use tenancy::imports::{ImportKind, ImportRow, MAX_ROWS, column_key};

/// Parses and checks the whole file; any structural problem rejects it all.
pub fn parse_csv(bytes: &[u8], kind: ImportKind) -> Result<Vec<ImportRow>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    check_quotes(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
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
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(pos) => format!("Line {} is malformed: {e}.", pos.line()),
            None => format!("The file is malformed: {e}."),
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(format!(
                "The file has more than {MAX_ROWS} rows; split it into smaller files."
            ));
        }
        let line = record
            .position()
            .map_or(0, |p| i32::try_from(p.line()).unwrap_or(i32::MAX));
        let fields: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_owned())))
            .collect();
        rows.push((line, fields));
    }
    if rows.is_empty() {
        return Err("The file has a header row but no data rows.".into());
    }
    Ok(rows)
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
/// value are ordinary characters, as in RFC 4180 readers.
fn check_quotes(bytes: &[u8]) -> Result<(), String> {
    let malformed = |line: usize, what: &str| Err(format!("Line {line} is malformed: {what}."));
    let mut line = 1;
    let mut i = 0;
    let mut field_start = true;
    while i < bytes.len() {
        let byte = bytes[i];
        if field_start && byte == b'"' {
            let opened = line;
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return malformed(opened, "a quoted value is never closed"),
                    Some(b'\n' | b'\r') => {
                        return malformed(
                            opened,
                            "a quoted value runs over a line break (is a closing quote missing?)",
                        );
                    }
                    Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            match bytes.get(i) {
                None | Some(b',' | b'\n' | b'\r') => field_start = false,
                Some(_) => return malformed(line, "there is text after a closing quote"),
            }
            continue;
        }
        field_start = matches!(byte, b',' | b'\n' | b'\r');
        if byte == b'\n' {
            line += 1;
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_quotes;

    #[test]
    fn well_formed_quoting_passes() {
        assert!(check_quotes(b"a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n5\" floppy,\"\"\n").is_ok());
        assert!(check_quotes(b"a,\"b\"").is_ok());
    }

    #[test]
    fn broken_quoting_names_the_line() {
        assert_eq!(
            check_quotes(b"a,b\nx,\"y\nz,w\n"),
            Err("Line 2 is malformed: a quoted value runs over a line break (is a closing quote missing?).".into())
        );
        assert_eq!(
            check_quotes(b"a,b\nx,\"y"),
            Err("Line 2 is malformed: a quoted value is never closed.".into())
        );
        assert_eq!(
            check_quotes(b"a,b\n\"x\"y,z\n"),
            Err("Line 2 is malformed: there is text after a closing quote.".into())
        );
    }
}
