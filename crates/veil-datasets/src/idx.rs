//! The IDX format of MNIST (LeCun et al., <http://yann.lecun.com/exdb/mnist/>): a 4-byte magic
//! `0x00 0x00 <type> <ndim>`, then `ndim` big-endian u32 dimensions, then the values in row-major
//! order. MNIST uses type `0x08` (unsigned bytes): images are 3-dimensional (count x rows x
//! cols, magic 2051), labels 1-dimensional (magic 2049). Files are often gzip-compressed.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};

/// The IDX type code of unsigned bytes, the only one MNIST uses.
pub const UBYTE: u8 = 0x08;

/// Size limits applied before anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, and largest decompressed content, accepted (bytes).
    pub max_bytes: u64,
}

impl Default for Limits {
    /// 256 MiB: five times MNIST's largest file (the 60,000 training images, 47 MB).
    fn default() -> Self {
        Limits {
            max_bytes: 256 << 20,
        }
    }
}

/// An IDX array of unsigned bytes: its dimensions and values (row-major).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (for images: count, rows, columns).
    pub dims: Vec<usize>,
    /// The values; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Images: `count` images of `rows` x `cols` bytes each, one after the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count * rows * cols` pixel bytes (MNIST: 0 = background, 255 = ink).
    pub pixels: Vec<u8>,
}

impl Images {
    /// Bytes per image (`rows * cols`; saturating, since the fields are public).
    pub fn image_len(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }

    /// The pixels of image `i`, or `None` past the end.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let n = self.image_len();
        self.pixels
            .get(i.checked_mul(n)?..i.checked_add(1)?.checked_mul(n)?)
    }
}

/// Parses IDX bytes (already decompressed) of type unsigned byte with `ndim` dimensions. The
/// header's dimensions are multiplied with overflow checks and must match the remaining length
/// exactly before the values are copied; `what` names the input in errors.
pub fn parse_idx(bytes: &[u8], ndim: u8, what: &str) -> Result<IdxArray> {
    let header = bytes.get(..4).ok_or_else(|| {
        Error::format(
            what,
            format!("{} bytes, shorter than the magic", bytes.len()),
        )
    })?;
    if header[0] != 0 || header[1] != 0 {
        return Err(Error::format(
            what,
            format!("magic {header:02x?} does not start with two zero bytes (not an IDX file)"),
        ));
    }
    if header[2] != UBYTE {
        return Err(Error::format(
            what,
            format!(
                "type code 0x{:02x}, expected 0x08 (unsigned byte)",
                header[2]
            ),
        ));
    }
    if header[3] != ndim {
        return Err(Error::format(
            what,
            format!("{} dimensions, expected {ndim}", header[3]),
        ));
    }
    let body_start = 4 + 4 * usize::from(ndim);
    let dim_bytes = bytes
        .get(4..body_start)
        .ok_or_else(|| Error::format(what, "the header is cut inside the dimensions"))?;
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let body = &bytes[body_start..];
    let announced = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::format(what, format!("dimensions {dims:?} overflow")))?;
    if announced != body.len() {
        return Err(Error::format(
            what,
            format!(
                "dimensions {dims:?} announce {announced} values, the file has {}",
                body.len()
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: body.to_vec(),
    })
}

/// Parses an image file (`*-idx3-ubyte`, magic 2051) from decompressed bytes.
pub fn parse_images(bytes: &[u8], what: &str) -> Result<Images> {
    let a = parse_idx(bytes, 3, what)?;
    Ok(Images {
        count: a.dims[0],
        rows: a.dims[1],
        cols: a.dims[2],
        pixels: a.data,
    })
}

/// Parses a label file (`*-idx1-ubyte`, magic 2049) from decompressed bytes.
pub fn parse_labels(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    Ok(parse_idx(bytes, 1, what)?.data)
}

/// Returns the content of raw or gzip-compressed bytes (gzip is recognised by its magic
/// `1f 8b`), refusing content beyond `limits.max_bytes` without buffering it (a small gzip
/// file can expand to gigabytes).
pub fn decompress(bytes: &[u8], limits: &Limits, what: &str) -> Result<Vec<u8>> {
    let too_large = |size: u64| Error::TooLarge {
        what: what.to_owned(),
        size,
        limit: limits.max_bytes,
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        let size = bytes.len() as u64;
        return if size > limits.max_bytes {
            Err(too_large(size))
        } else {
            Ok(bytes.to_vec())
        };
    }
    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "beyond it".
    GzDecoder::new(bytes)
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| Error::Io {
            context: format!("decompressing {what}"),
            source,
        })?;
    if out.len() as u64 > limits.max_bytes {
        return Err(too_large(out.len() as u64));
    }
    Ok(out)
}

/// Reads a file (raw or gzip) whose size is checked against the limit before it is read.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let what = path.display().to_string();
    let io = |source| Error::Io {
        context: format!("reading {what}"),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limits.max_bytes {
        return Err(Error::TooLarge {
            what,
            size,
            limit: limits.max_bytes,
        });
    }
    let mut bytes = Vec::new();
    // `take` also guards against a file that grows after the size check.
    file.take(limits.max_bytes)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    decompress(&bytes, limits, &what)
}

/// Reads an image file (raw or gzip).
pub fn read_images(path: &Path, limits: &Limits) -> Result<Images> {
    parse_images(&read_file(path, limits)?, &path.display().to_string())
}

/// Reads a label file (raw or gzip).
pub fn read_labels(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    parse_labels(&read_file(path, limits)?, &path.display().to_string())
}

/// Writes unsigned-byte IDX bytes for `dims` and `data` (for tests, fixtures and tools).
/// Returns `None` if a dimension does not fit in u32, there are more than 255 dimensions, or
/// `data` does not have the product of `dims` values.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Option<Vec<u8>> {
    let ndim = u8::try_from(dims.len()).ok()?;
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if count != data.len() {
        return None;
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, UBYTE, ndim]);
    for &d in dims {
        out.extend_from_slice(&u32::try_from(d).ok()?.to_be_bytes());
    }
    out.extend_from_slice(data);
    Some(out)
}
