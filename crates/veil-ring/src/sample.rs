//! Samplers for uniform, ternary, centered-binomial and discrete-Gaussian polynomials (in progress).
