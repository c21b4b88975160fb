//! `.npz` archives and scipy sparse codes.

use dictum::CscMatrix;
use dictum::io::npz::{self, Compression, NpzReader, NpzWriter};
use dictum::io::sparse::{load_csc, save_csc};
use dictum::io::{Array, ArrayData, IoError, Order};
use dictum_tests::fixture;
use proptest::prelude::*;

fn a(i: usize, j: usize) -> f64 {
    (4 * i + j) as f64 * 0.5 - 1.0
}

#[test]
fn numpy_savez_and_savez_compressed_are_read() {
    for (file, order) in [("stored.npz", Order::C), ("deflated.npz", Order::Fortran)] {
        let mut z = NpzReader::open(fixture(file)).unwrap();
        assert_eq!(z.names(), vec!["a".to_string(), "labels".to_string()]);
        let arr = z.read("a").unwrap();
        assert_eq!((arr.shape.clone(), arr.order), (vec![3, 4], order));
        let m = arr.to_mat::<f64>().unwrap();
        let at = |i, j| {
            if order == Order::C {
                m[(j, i)]
            } else {
                m[(i, j)]
            }
        };
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(at(i, j), a(i, j) as f32 as f64);
            }
        }
        assert_eq!(
            z.read("labels.npy").unwrap().data,
            ArrayData::I64(vec![1, 2, 3])
        );
        let err = z.read("missing").unwrap_err();
        assert!(matches!(err, IoError::MissingMember { .. }));
        assert!(err.to_string().contains("a, labels"), "{err}");
    }
}

#[test]
fn npz_write_read_both_compressions() {
    let dir = tempfile::tempdir().unwrap();
    let x = Array::vector(ArrayData::F64(vec![1.0, -2.5, 3.0]));
    let s = Array::scalar_str("hello");
    for c in [Compression::Stored, Compression::Deflate] {
        let p = dir.path().join(format!("{c:?}.npz"));
        npz::write_all(&p, [("x", &x), ("s", &s)], c).unwrap();
        let all = npz::read_all(&p).unwrap();
        assert_eq!(all["x"], x);
        assert_eq!(all["s"], s);
    }
    // an unfinished writer leaves nothing behind
    let p = dir.path().join("unfinished.npz");
    let mut w = NpzWriter::create(&p, Compression::Deflate).unwrap();
    w.add("x", &x).unwrap();
    drop(w);
    assert!(!p.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn corrupt_npz_is_reported() {
    let err = NpzReader::open(fixture("f32_c_3x4.npy")).unwrap_err();
    assert!(matches!(err, IoError::Zip { .. }), "{err}");
    assert!(err.to_string().contains("f32_c_3x4.npy"));
}

/// The 5 x 4 matrix of make_fixtures.py, dense, column-major.
fn scipy_fixture_dense() -> Vec<f64> {
    let mut d = vec![0.0; 20];
    let entries = [
        (0, 0, 1.5),
        (3, 0, -2.0),
        (4, 1, 3.25),
        (1, 2, 4.0),
        (2, 2, 0.5),
        (0, 3, -1.0),
    ];
    for (r, c, v) in entries {
        d[r + 5 * c] = v;
    }
    d
}

#[test]
fn scipy_csc_is_read_with_unsorted_indices_sorted() {
    let m: CscMatrix<f64> = load_csc(fixture("codes_scipy_csc.npz")).unwrap();
    assert_eq!((m.nrows(), m.ncols(), m.nnz()), (5, 4, 6));
    let dense = m.to_dense();
    let expected = scipy_fixture_dense();
    for j in 0..4 {
        for i in 0..5 {
            assert_eq!(dense[(i, j)], expected[i + 5 * j]);
        }
        let (rows, _) = m.col(j);
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
    }
    let m32: CscMatrix<f32> = load_csc(fixture("codes_scipy_csc.npz")).unwrap();
    assert_eq!(m32.values()[0], 1.5);
}

#[test]
fn scipy_csr_reads_as_the_same_matrix() {
    // The same matrix as codes_scipy_csc.npz, saved by scipy in CSR form.
    let csr = load_csc::<f64>(fixture("codes_scipy_csr.npz")).unwrap();
    let csc = load_csc::<f64>(fixture("codes_scipy_csc.npz")).unwrap();
    assert_eq!(csr.to_dense(), csc.to_dense());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn csc_codes_round_trip(
        cols in proptest::collection::vec(proptest::collection::btree_map(0usize..20, -5.0f32..5.0, 0..5), 0..12),
        deflate in any::<bool>(),
    ) {
        let mut b = dictum::linalg::CscBuilder::new(20);
        for c in &cols {
            b.push_column(c.iter().map(|(&r, &v)| (r, v))).unwrap();
        }
        let m = b.finish();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("codes.npz");
        let c = if deflate { Compression::Deflate } else { Compression::Stored };
        save_csc(&p, &m, c).unwrap();
        let back: CscMatrix<f32> = load_csc(&p).unwrap();
        prop_assert_eq!(back, m);
    }
}
