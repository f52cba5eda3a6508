//! The SMS Spam Collection (`label,text` rows, RFC 4180 quoting, quoted fields may span lines;
//! label `ham` or `spam`) and a seeded stratified split.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};

/// One labelled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// True for spam.
    pub spam: bool,
    /// The text.
    pub text: String,
}

/// Largest file read (the collection is about 500 KB).
const MAX_FILE: u64 = 64 << 20;

/// Reads and parses the collection from `path`.
pub fn load_sms_spam(path: &Path) -> Result<Vec<Message>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::Data {
            reason: format!("{}: {e}", path.display()),
        })?
        .len();
    if len > MAX_FILE {
        return Err(Error::Data {
            reason: format!("{}: larger than 64 MiB", path.display()),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::Data {
        reason: format!("{}: {e}", path.display()),
    })?;
    parse_sms_spam(&text)
}

/// Parses CSV records `label,text[,...]`: fields separated by commas, double-quoted fields may
/// contain commas, newlines and doubled quotes; empty lines are skipped.
pub fn parse_sms_spam(text: &str) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut finish_record = |fields: &mut Vec<String>, line: usize| -> Result<()> {
        if fields.iter().all(|f| f.is_empty()) {
            fields.clear();
            return Ok(());
        }
        let label = fields.first().map(|s| s.trim()).unwrap_or("");
        let spam = match label {
            "spam" => true,
            "ham" => false,
            other => {
                return Err(Error::Data {
                    reason: format!("line {line}: label {other:?} is neither ham nor spam"),
                });
            }
        };
        out.push(Message {
            spam,
            text: fields.get(1).cloned().unwrap_or_default(),
        });
        fields.clear();
        Ok(())
    };
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                finish_record(&mut fields, line)?;
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(Error::Data {
            reason: "unterminated quoted field at the end of the file".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        finish_record(&mut fields, line)?;
    }
    Ok(out)
}

/// A stratified split: `test_share` of each class goes to the test set, after a shuffle seeded by
/// `seed`. Returns (train, test) as indices into `messages`.
pub fn stratified_split(
    messages: &[Message],
    test_share: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..messages.len())
            .filter(|&i| messages.get(i).is_some_and(|m| m.spam == class))
            .collect();
        idx.shuffle(&mut rng);
        let n_test = (idx.len() as f64 * test_share).round() as usize;
        test.extend_from_slice(idx.get(..n_test).unwrap_or(&[]));
        train.extend_from_slice(idx.get(n_test..).unwrap_or(&[]));
    }
    train.shuffle(&mut rng);
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_commas_and_multiline_fields() {
        let csv = "ham,\"a, b\"\"c\"\"\nd\",,,\r\nspam,Win now,,,\n\nham,x";
        let m = parse_sms_spam(csv).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].text, "a, b\"c\"\nd");
        assert!(m[1].spam && !m[2].spam);
        assert!(parse_sms_spam("eggs,x\n").is_err());
        assert!(parse_sms_spam("ham,\"open\n").is_err());
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let msgs: Vec<Message> = (0..100)
            .map(|i| Message {
                spam: i % 5 == 0,
                text: i.to_string(),
            })
            .collect();
        let (train, test) = stratified_split(&msgs, 0.2, 3);
        assert_eq!((train.len(), test.len()), (80, 20));
        assert_eq!(test.iter().filter(|&&i| msgs[i].spam).count(), 4);
        assert_eq!(stratified_split(&msgs, 0.2, 3), (train, test));
    }
}
