//! Properties against naive references: splits partition the data, the exact path's tracked bound
//! holds for any input within the clip, standardisation gives zero means.

use proptest::prelude::*;
use veil_reacthe::exact::QuantizedNetwork;
use veil_reacthe::ndarray::Array2;
use veil_reacthe::{Architecture, Dataset, Network, Standardizer, Task};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn splits_partition_the_samples(n in 1usize..200, frac in 0.0f64..1.0, seed in any::<u64>()) {
        let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let data = Dataset { y: x.column(0).to_owned(), x, task: Task::Regression };
        let (a, b) = data.split(frac, seed);
        let mut all: Vec<f64> = a.y.iter().chain(b.y.iter()).copied().collect();
        all.sort_by(f64::total_cmp);
        prop_assert_eq!(all, (0..n).map(|i| i as f64).collect::<Vec<_>>());
        prop_assert_eq!(b.len(), ((n as f64) * frac).ceil() as usize);
    }

    #[test]
    fn integer_model_stays_within_its_bound(
        seed in 0u64..1000,
        values in proptest::collection::vec(-10.0f64..10.0, 12),
    ) {
        let std = Standardizer { mean: vec![0.0; 4], std: vec![1.0; 4] };
        let net = Network::new(Architecture::reacthe(3, 1, 0.2), Task::MultiClass(2), 4, std, seed)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let q = QuantizedNetwork::new(&net, (3, 5, 6), 4.0)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let x = Array2::from_shape_vec((3, 4), values).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for row in q.forward(&q.quantize_inputs(&x)) {
            for v in row {
                prop_assert!(v.abs() <= q.bound);
            }
        }
    }

    #[test]
    fn standardised_columns_have_zero_mean(values in proptest::collection::vec(-1e3f64..1e3, 6..60)) {
        let rows = values.len() / 3;
        let x = Array2::from_shape_vec((rows, 3), values[..rows * 3].to_vec())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let z = Standardizer::fit(&x).transform(&x);
        for c in z.columns() {
            prop_assert!(c.sum().abs() < 1e-6 * rows as f64);
        }
    }
}
