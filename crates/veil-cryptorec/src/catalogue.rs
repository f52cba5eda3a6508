//! Item titles from a MovieLens catalogue, so that recommendations can name films instead of
//! bare identifiers: `u.item` of 100K (`id|title|date|...`, Latin-1), `movies.dat` of 1M/10M
//! (`id::title::genres`) and `movies.csv` of the later releases (`movieId,title,genres`, with
//! quoted titles).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// Item identifier to title.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    titles: HashMap<u64, String>,
}

impl Catalogue {
    /// Reads a catalogue file; the format is chosen by the first line (`::`, `|` or CSV).
    /// Bytes that are not UTF-8 are read as Latin-1 (as `u.item` is written).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
        };
        Self::parse(&text)
    }

    /// Parses the text of a catalogue file (see [`Catalogue::load`]).
    pub fn parse(text: &str) -> Result<Self> {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let mut titles = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() {
                continue;
            }
            // `::` first: movies.dat separates its genres with `|`.
            let (id, title) = if first.contains("::") {
                let mut parts = raw.split("::");
                (parts.next(), parts.next().map(str::to_owned))
            } else if first.contains('|') {
                let mut parts = raw.split('|');
                (parts.next(), parts.next().map(str::to_owned))
            } else {
                match raw.split_once(',') {
                    Some((id, rest)) => (Some(id), Some(csv_title(rest))),
                    None => (Some(raw), None),
                }
            };
            let id = id.map(str::trim).unwrap_or("");
            let Ok(id) = id.parse::<u64>() else {
                if line == 1 {
                    continue; // a header (movies.csv)
                }
                return Err(Error::Parse {
                    line,
                    reason: format!("item identifier {id:?} is not a number"),
                });
            };
            let title = title.ok_or_else(|| Error::Parse {
                line,
                reason: "missing title".into(),
            })?;
            titles.insert(id, title.trim().to_owned());
        }
        if titles.is_empty() {
            return Err(Error::Invalid {
                reason: "no titles in the catalogue",
            });
        }
        Ok(Catalogue { titles })
    }

    /// The title of item `id`, if the catalogue has it.
    pub fn title(&self, id: u64) -> Option<&str> {
        self.titles.get(&id).map(String::as_str)
    }

    /// Number of titles.
    pub fn len(&self) -> usize {
        self.titles.len()
    }

    /// Whether there are no titles (never, for a parsed catalogue).
    pub fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }
}

/// The title field at the start of the rest of a `movies.csv` line: quoted (`""` is a quote)
/// or up to the last comma (the genres follow it).
fn csv_title(rest: &str) -> String {
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    out.push('"');
                } else {
                    break;
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        rest.rsplit_once(',')
            .map_or(rest, |(title, _)| title)
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_three_formats() {
        let item = Catalogue::parse("1|Toy Story (1995)|01-Jan-1995||http://x|0|0\n").unwrap();
        assert_eq!(item.title(1), Some("Toy Story (1995)"));
        let dat = Catalogue::parse("2::Jumanji (1995)::Adventure|Children\n").unwrap();
        assert_eq!(dat.title(2), Some("Jumanji (1995)"));
        let csv = Catalogue::parse(
            "movieId,title,genres\n3,Heat (1995),Action\n4,\"American President, The (1995)\",Comedy\n5,\"Say \"\"Hi\"\" (2000)\",Drama\n",
        )
        .unwrap();
        assert_eq!(csv.title(3), Some("Heat (1995)"));
        assert_eq!(csv.title(4), Some("American President, The (1995)"));
        assert_eq!(csv.title(5), Some("Say \"Hi\" (2000)"));
        assert_eq!(csv.len(), 3);
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let e = Catalogue::parse("1|A\nx|B\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(Catalogue::parse("\n").is_err());
    }
}
