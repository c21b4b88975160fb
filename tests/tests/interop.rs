//! numpy and scipy read what dictum writes. Skipped, with a message, when python3 with
//! numpy (and scipy, for the sparse test) is not installed.

use std::process::Command;

use dictum::io::npy::{self, MatrixLayout};
use dictum::io::npz::{self, Compression};
use dictum::io::sparse::save_csc;
use dictum::io::{Array, ArrayData};
use dictum::{CscMatrix, Mat};
use dictum_tests::python_has;

fn run_python(script: &str, dir: &std::path::Path) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn numpy_reads_dictum_npy_and_npz() {
    if !python_has("numpy") {
        println!("SKIP numpy_reads_dictum_npy_and_npz: python3 with numpy not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = Mat::<f32>::from_fn(3, 4, |i, j| i as f32 - 0.5 * j as f32); // d=3, N=4
    npy::write_matrix(
        dir.path().join("rows.npy"),
        m.as_ref(),
        MatrixLayout::SamplesAsRows,
    )
    .unwrap();
    npy::write_matrix(
        dir.path().join("fort.npy"),
        m.as_ref(),
        MatrixLayout::Fortran,
    )
    .unwrap();
    let ints = Array::vector(ArrayData::I64(vec![-1, 1 << 40]));
    let text = Array::scalar_str("héllo");
    let flags = Array::vector(ArrayData::Bool(vec![true, false]));
    npy::write(dir.path().join("ints.npy"), &ints).unwrap();
    npz::write_all(
        dir.path().join("z.npz"),
        [("ints", &ints), ("text", &text), ("flags", &flags)],
        Compression::Deflate,
    )
    .unwrap();
    npz::write_all(
        dir.path().join("s.npz"),
        [("ints", &ints)],
        Compression::Stored,
    )
    .unwrap();
    run_python(
        r#"
import numpy as np
m = np.array([[i - 0.5 * j for j in range(4)] for i in range(3)], dtype=np.float32)
r = np.load("rows.npy"); assert r.dtype == np.float32 and r.shape == (4, 3), r.shape
assert np.array_equal(r, m.T)
f = np.load("fort.npy"); assert f.shape == (3, 4) and f.flags.f_contiguous
assert np.array_equal(f, m)
assert np.load("ints.npy").tolist() == [-1, 2**40]
z = np.load("z.npz")
assert sorted(z.files) == ["flags", "ints", "text"]
assert z["text"].item() == "héllo" and z["flags"].tolist() == [True, False]
assert np.load("s.npz")["ints"].tolist() == [-1, 2**40]
"#,
        dir.path(),
    );
}

#[test]
fn scipy_reads_dictum_codes() {
    if !python_has("numpy, scipy.sparse") {
        println!("SKIP scipy_reads_dictum_codes: python3 with scipy not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dense = Mat::<f64>::from_fn(6, 5, |i, j| {
        if (i + 2 * j) % 3 == 0 {
            (i * 5 + j) as f64 - 7.5
        } else {
            0.0
        }
    });
    let codes = CscMatrix::from_dense(dense.as_ref()).unwrap();
    save_csc(dir.path().join("c.npz"), &codes, Compression::Deflate).unwrap();
    save_csc(dir.path().join("s.npz"), &codes, Compression::Stored).unwrap();
    run_python(
        r#"
import numpy as np, scipy.sparse as sp
want = np.array([[(i * 5 + j) - 7.5 if (i + 2 * j) % 3 == 0 else 0.0 for j in range(5)] for i in range(6)])
for f in ["c.npz", "s.npz"]:
    m = sp.load_npz(f)
    assert m.format == "csc" and m.shape == (6, 5), (m.format, m.shape)
    assert np.array_equal(m.toarray(), want)
sp.save_npz("r.npz", sp.csr_matrix(want))
"#,
        dir.path(),
    );
    // scipy's CSR reads as the same matrix (converted to CSC, never densified).
    let csr = dictum::io::sparse::load_csc::<f64>(dir.path().join("r.npz")).unwrap();
    assert_eq!(csr, codes);
}

#[test]
fn numpy_and_scipy_read_a_saved_learning_run() {
    use dictum::Learner;
    use dictum::coding::Omp;
    use dictum::learn::dictionary::Ksvd;
    if !python_has("scipy") {
        println!("SKIP numpy_and_scipy_read_a_saved_learning_run: python3 with scipy not found");
        return;
    }
    let y = Mat::<f64>::from_fn(6, 40, |i, j| {
        ((i * 3 + j * 7) % 5) as f64 - 2.0 + 0.1 * j as f64
    });
    let learned = Ksvd::new(8, Omp::new().n_nonzero_coefs(2).check().unwrap())
        .max_iter(2)
        .fit(y.as_ref(), &dictum::Exec::default())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    dictum::save_learned(dir.path().join("run.npz"), &learned).unwrap();
    let err = dictum::relative_error(
        learned.dictionary.as_ref(),
        y.as_ref(),
        &learned.codes,
        &dictum::Exec::default(),
    )
    .unwrap();
    let script = format!(
        "import numpy as np, scipy.sparse as sp\n\
         z = np.load('run.npz')\n\
         D = z['dictionary']; assert D.shape == (6, 8), D.shape\n\
         X = sp.csc_matrix((z['codes_data'], z['codes_indices'], z['codes_indptr']), shape=tuple(z['codes_shape']))\n\
         assert X.shape == (8, 40)\n\
         assert z['history'].shape == (2, 7) and str(z['stop']) == 'max-iter'\n\
         Y = np.array([[((i * 3 + j * 7) % 5) - 2.0 + 0.1 * j for j in range(40)] for i in range(6)])\n\
         e = np.linalg.norm(Y - D @ X.toarray()) / np.linalg.norm(Y)\n\
         assert abs(e - {err}) < 1e-12, e\n"
    );
    run_python(&script, dir.path());
}
