//! Loaders (formats, line-numbered errors) and the synthetic generator; MovieLens 100K when
//! `../shared/data` is present.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use veil_cryptorec::Error;
use veil_cryptorec::data::{Dataset, SyntheticConfig};

#[test]
fn movielens_formats_and_csv() {
    let tab = Dataset::parse_movielens(
        "196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n196\t302\t4\t1\n",
    )
    .unwrap();
    assert_eq!((tab.users(), tab.items(), tab.ratings().len()), (2, 2, 3));
    assert_eq!(tab.user_id(0), Some(196));
    assert_eq!(tab.item_id(1), Some(302));
    let colons =
        Dataset::parse_movielens("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::1\n")
            .unwrap();
    assert_eq!((colons.users(), colons.items()), (2, 2));
    let csv = Dataset::parse_csv("user,item,rating\n1,10,4.5\n2,10,3\n").unwrap();
    assert_eq!(csv.ratings()[0].value, 4.5);
    assert_eq!(Dataset::parse_csv("1,10,4.5\n").unwrap().ratings().len(), 1);
}

/// The `ratings.csv` of current MovieLens releases (ml-latest-small and on): a header, half
/// stars, a fourth (timestamp) column. Issue 14 item 4, issue 16: it was refused.
#[test]
fn movielens_csv_with_header_and_timestamps_loads_from_a_file() {
    let text = "userId,movieId,rating,timestamp\n\
                1,31,2.5,1260759144\n\
                1,1029,3.0,1260759179\n\
                7,31,0.5,851866703\n\
                7,2105,5.0,851869035\n";
    let path = std::env::temp_dir().join(format!("veil-h16-ratings-{}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let csv = Dataset::load_csv(&path);
    let any = Dataset::load_any(&path);
    std::fs::remove_file(&path).unwrap();
    let csv = csv.unwrap();
    assert_eq!((csv.users(), csv.items(), csv.ratings().len()), (2, 3, 4));
    assert_eq!(csv.user_id(1), Some(7));
    assert_eq!(csv.item_id(2), Some(2105));
    let values: Vec<f32> = csv.ratings().iter().map(|r| r.value).collect();
    assert_eq!(values, [2.5, 3.0, 0.5, 5.0]);
    let scale = csv.scale().unwrap();
    assert_eq!((scale.min, scale.max), (0.5, 5.0));
    assert_eq!(any.unwrap(), csv);
    // A byte-order mark before the header, and Windows line ends.
    let bom = Dataset::parse_csv("\u{feff}userId,movieId,rating\r\n1,2,4\r\n").unwrap();
    assert_eq!(bom.ratings()[0].value, 4.0);
    // Auto-detection keeps the other two formats.
    assert_eq!(
        Dataset::parse_any("1\t2\t3\t4\n").unwrap().ratings().len(),
        1
    );
    assert_eq!(
        Dataset::parse_any("1::2::3::4\n").unwrap().ratings().len(),
        1
    );
    // The rating column is still required and checked.
    assert!(Dataset::parse_csv("userId,movieId,rating\n1,2\n").is_err());
    assert!(Dataset::parse_csv("userId,movieId,rating\n1,2,x,9\n").is_err());
}

#[test]
fn bad_lines_are_reported_with_their_number() {
    let line_of = |r: Result<Dataset, Error>| match r {
        Err(Error::Parse { line, .. }) => line,
        other => panic!("{other:?}"),
    };
    assert_eq!(line_of(Dataset::parse_movielens("1\t2\t3\t4\n1\t2\n")), 2);
    assert_eq!(
        line_of(Dataset::parse_movielens("1\t2\t3\t4\nx\t2\t3\t4\n")),
        2
    );
    assert_eq!(
        line_of(Dataset::parse_movielens(
            "1\t2\t3\t4\n5\t6\t7\t8\n1\t2\t5\t9\n"
        )),
        3
    ); // duplicate
    assert_eq!(line_of(Dataset::parse_movielens("1\t2\tNaN\t4\n")), 1);
    assert_eq!(line_of(Dataset::parse_csv("u,i,r\n1,2,3\n1,2,3,4\n")), 3);
    assert!(matches!(Dataset::parse_csv(""), Err(Error::Invalid { .. })));
    assert!(matches!(
        Dataset::load_csv(std::path::Path::new("/nonexistent/x.csv")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn synthetic_data_has_the_requested_shape() {
    let cfg = SyntheticConfig {
        users: 600,
        items: 800,
        density: 0.05,
        seed: 7,
        ..SyntheticConfig::default()
    };
    let d = cfg.generate();
    assert_eq!(d.users(), 600);
    assert!(d.items() <= 800 && d.items() > 700, "{}", d.items());
    let density = d.ratings().len() as f64 / (600.0 * 800.0);
    assert!((density - 0.05).abs() < 0.01, "density {density}");
    assert!(
        d.ratings()
            .iter()
            .all(|r| (1.0..=5.0).contains(&r.value) && r.value.fract() == 0.0)
    );
    // Skewed popularity: the 10% most rated items hold far more than 10% of the ratings.
    let mut counts = vec![0usize; d.items()];
    for r in d.ratings() {
        counts[r.item as usize] += 1;
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top: usize = counts[..d.items() / 10].iter().sum();
    assert!(
        top as f64 > 0.3 * d.ratings().len() as f64,
        "top 10% hold {top}"
    );
    // Every user has at least min_per_user ratings; the same seed gives the same data.
    let mut per_user = vec![0usize; 600];
    for r in d.ratings() {
        per_user[r.user as usize] += 1;
    }
    assert!(per_user.iter().all(|&c| c >= 20));
    assert_eq!(cfg.generate(), d);
    assert_ne!(SyntheticConfig { seed: 8, ..cfg }.generate(), d);
}

#[test]
fn movielens_100k_when_present() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "..",
        "shared",
        "data",
        "movielens-100k",
        "u.data",
    ]
    .iter()
    .collect();
    if !path.exists() {
        eprintln!(
            "SKIPPED: {} is absent (MovieLens may not be redistributed)",
            path.display()
        );
        return;
    }
    let d = Dataset::load_movielens(&path).unwrap();
    assert_eq!(
        (d.users(), d.items(), d.ratings().len()),
        (943, 1682, 100_000)
    );
    assert!((d.density() - 0.063).abs() < 0.001);
}
