//! The `dictum` binary: output, exit codes, and one-line errors without panics.

// Tests state their expectations with unwrap: a failure is the test's report.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn dictum(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dictum"))
        .args(args)
        .output()
        .expect("run dictum")
}

fn fixture(name: &str) -> String {
    format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn inspect_bundled_digits() {
    let out = dictum(&["inspect", "digits"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1797 x 64 (C order)"), "{text}");
    assert!(text.contains("64 x 1797 as dictum reads it"), "{text}");
    assert!(text.contains("float32"), "{text}");
    assert!(
        text.contains("min 0  max 1  mean 0.305260  NaN 0"),
        "{text}"
    );
}

#[test]
fn inspect_npy_and_npz_files() {
    let out = dictum(&[
        "inspect",
        &fixture("f32_nan_inf.npy"),
        &fixture("deflated.npz"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("NaN 1  Inf 1"), "{text}");
    assert!(text.contains("npz archive with 2 arrays"), "{text}");
    assert!(text.contains("deflated.npz/a"), "{text}");
    assert!(text.contains("3 x 4 (Fortran order)"), "{text}");
    let out = dictum(&[
        "inspect",
        &fixture("codes_scipy_csc.npz"),
        "--member",
        "format",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("|S3") && text.contains("no statistics"),
        "{text}"
    );
}

#[test]
fn errors_are_one_line_and_exit_nonzero() {
    for (args, needle) in [
        (
            vec!["inspect".to_string(), "missing.npy".to_string()],
            "missing.npy",
        ),
        (
            vec!["inspect".to_string(), fixture("f64_big_endian.npy")],
            "big-endian",
        ),
        (
            vec!["inspect".to_string(), fixture("make_fixtures.py")],
            "unknown file type",
        ),
        (
            vec![
                "inspect".to_string(),
                fixture("stored.npz"),
                "--member".into(),
                "zz".into(),
            ],
            "no array named 'zz'",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = dictum(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn datasets_are_listed() {
    let out = dictum(&["datasets"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("patches8-train") && text.contains("CC BY"),
        "{text}"
    );
}

#[cfg(feature = "hdf5")]
#[test]
fn inspect_hdf5_file() {
    use dictum::io::hdf5::H5Writer;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.h5");
    let w = H5Writer::create(&p).unwrap();
    let m = dictum::Mat::<f64>::from_fn(4, 3, |i, j| (i + j) as f64);
    w.write_matrix("data/W", m.as_ref()).unwrap();
    w.finish().unwrap();
    let out = dictum(&["inspect", p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("HDF5 file with 1 datasets") && text.contains("f.h5/data/W"),
        "{text}"
    );
    assert!(
        text.contains("3 x 4 (C order)") && text.contains("max 5"),
        "{text}"
    );
}

/// A small dictionary (unit-norm unless `scale` ≠ 1) and signals as .npy files, and the path
/// the codes go to.
struct EncodeFiles {
    dict: String,
    signals: String,
    out: std::path::PathBuf,
}

impl EncodeFiles {
    fn new(dir: &std::path::Path, scale: f64) -> Self {
        use dictum::io::npy::{MatrixLayout, write_matrix};
        let (d, m, n) = (8, 16, 300);
        let mut dict = dictum::Mat::<f64>::from_fn(d, m, |i, j| {
            (((i * 7 + j * 13) % 11) as f64 - 5.0) + 0.1 * j as f64
        });
        dictum::linalg::norms::normalize_columns(dict.as_mut());
        let y = dictum::Mat::<f64>::from_fn(d, n, |i, j| {
            dict[(i, j % m)] * 2.0 - dict[(i, (j * 5 + 3) % m)]
        });
        for v in dict.col_mut(0).iter_mut() {
            *v *= scale;
        }
        let (dp, yp) = (dir.join("D.npy"), dir.join("Y.npy"));
        write_matrix(&dp, dict.as_ref(), MatrixLayout::Fortran).unwrap();
        write_matrix(&yp, y.as_ref(), MatrixLayout::SamplesAsRows).unwrap();
        Self {
            dict: dp.display().to_string(),
            signals: yp.display().to_string(),
            out: dir.join("X.npz"),
        }
    }

    /// `dictum encode --dict D --signals Y --out X <extra>`.
    fn encode(&self, extra: &[&str]) -> Output {
        let out = self.out.display().to_string();
        let mut args = vec![
            "encode",
            "--dict",
            &self.dict,
            "--signals",
            &self.signals,
            "--out",
            &out,
        ];
        args.extend_from_slice(extra);
        dictum(&args)
    }
}

#[test]
fn encode_writes_scipy_codes_and_reports_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let files = EncodeFiles::new(dir.path(), 1.0);
    for method in ["batch-omp", "omp", "mp"] {
        let r = files.encode(&["--method", method, "--k", "3", "--threads", "2"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let text = String::from_utf8(r.stdout).unwrap();
        assert!(text.contains("signals       N = 300"), "{text}");
        assert!(text.contains("rel. error"), "{text}");
        let x: dictum::CscMatrix<f64> = dictum::io::sparse::load_csc(&files.out).unwrap();
        assert_eq!((x.nrows(), x.ncols()), (16, 300));
        assert!((0..300).all(|j| x.col(j).0.len() <= 3));
    }
    let r = files.encode(&["--method", "lars", "--lambda", "0.1", "--nonneg"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let x: dictum::CscMatrix<f64> = dictum::io::sparse::load_csc(&files.out).unwrap();
    assert!(x.values().iter().all(|&v| v > 0.0));
}

#[test]
fn coder_flags_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let files = EncodeFiles::new(dir.path(), 1.0);
    for method in ["lars", "lasso", "fista", "ista"] {
        let r = files.encode(&["--method", method]);
        assert_eq!(r.status.code(), Some(1), "{method}");
        let err = String::from_utf8(r.stderr).unwrap();
        assert!(err.contains("--lambda"), "{method}: {err}");
        assert!(!files.out.exists(), "{method}");
    }
    // Not a method: clap names the choices (usage errors exit 2).
    let r = files.encode(&["--method", "bogus"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(err.contains("bogus") && err.contains("batch-omp"), "{err}");
    let r = files.encode(&["--method", "omp", "--k", "0"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(!files.out.exists());
}

#[test]
fn devices_are_listed_and_device_requests_are_honoured() {
    let out = dictum(&["devices"]);
    assert!(out.status.success());
    let listed = String::from_utf8(out.stdout).unwrap();
    let has_gpu = listed.starts_with("gpu:0");
    assert!(
        has_gpu || listed.starts_with("cpu only: no GPU adapter"),
        "{listed}"
    );
    let dir = tempfile::tempdir().unwrap();
    let files = EncodeFiles::new(dir.path(), 1.0);
    let r = files.encode(&["--method", "batch-omp", "--k", "3", "--device", "gpu"]);
    let err = String::from_utf8(r.stderr).unwrap();
    if has_gpu {
        assert!(r.status.success(), "{err}");
        assert!(err.starts_with("device: gpu:0"), "{err}");
        let text = String::from_utf8(r.stdout).unwrap();
        assert!(text.contains("signals       N = 300"), "{text}");
    } else {
        assert_eq!(r.status.code(), Some(1));
        assert!(err.contains("no GPU adapter"), "{err}");
        assert!(!files.out.exists());
    }
    // auto never fails.
    let r = files.encode(&["--method", "batch-omp", "--k", "3", "--device", "auto"]);
    assert!(r.status.success());
    assert!(String::from_utf8(r.stderr).unwrap().starts_with("device: "));
    let r = files.encode(&["--method", "omp", "--device", "tpu"]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(err.contains("cpu, auto, gpu or gpu:N"), "{err}");
}

#[test]
fn encode_refuses_a_dictionary_that_is_not_normalized() {
    let dir = tempfile::tempdir().unwrap();
    let files = EncodeFiles::new(dir.path(), 2.0);
    let r = files.encode(&["--k", "2"]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(
        err.starts_with("error: dictionary atom 0 has norm 2"),
        "{err}"
    );
    assert!(!files.out.exists());
    let r = files.encode(&["--k", "2", "--normalize"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = files.encode(&["--method", "fista"]);
    assert!(
        String::from_utf8(r.stderr)
            .unwrap()
            .contains("pass --lambda")
    );
}

#[test]
fn demo_denoises_the_bundled_photograph() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let r = dictum(&["demo", "--out", &out, "--iters", "3", "--threads", "2"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8(r.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("PSNR")).unwrap();
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (noisy, denoised) = (numbers[0], numbers[1]);
    assert!((noisy - 22.1).abs() < 0.1, "{line}");
    assert!(denoised > noisy + 8.0, "{line}");
    for f in [
        "denoise.png",
        "atoms.png",
        "D.npy",
        "denoised.npy",
        "history.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    let d = dictum::io::npy::MappedNpy::open(dir.path().join("D.npy")).unwrap();
    assert_eq!(d.shape(), &[256, 64]);
}

#[test]
fn learn_writes_dictionary_codes_history_and_pictures() {
    use dictum::io::npy::{MatrixLayout, write_matrix};
    let dir = tempfile::tempdir().unwrap();
    // 400 signals of 4x4 patches, each a mix of two of eight patterns.
    let patterns = dictum::Mat::<f32>::from_fn(16, 8, |i, j| ((i * (j + 3)) % 7) as f32 - 3.0);
    let y = dictum::Mat::<f32>::from_fn(16, 400, |i, j| {
        patterns[(i, j % 8)] + 0.5 * patterns[(i, (j / 8) % 8)]
    });
    let yp = dir.path().join("Y.npy");
    write_matrix(&yp, y.as_ref(), MatrixLayout::SamplesAsRows).unwrap();
    for method in [
        "ksvd",
        "approx-ksvd",
        "batched-ksvd",
        "mod",
        "online",
        "kmeans",
        "spherical-kmeans",
    ] {
        let out = dir.path().join(method);
        let r = dictum(&[
            "learn",
            "--signals",
            &yp.display().to_string(),
            "--atoms",
            "12",
            "--method",
            method,
            "--k",
            "2",
            "--iters",
            "5",
            "--threads",
            "2",
            "--out",
            &out.display().to_string(),
        ]);
        assert!(
            r.status.success(),
            "{method}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let text = String::from_utf8(r.stdout).unwrap();
        assert!(text.contains("(stopped: "), "{text}");
        let d = dictum::io::npy::MappedNpy::open(out.join("D.npy")).unwrap();
        assert_eq!(d.shape(), &[12, 16]);
        let x: dictum::CscMatrix<f32> = dictum::io::sparse::load_csc(out.join("X.npz")).unwrap();
        assert_eq!((x.nrows(), x.ncols()), (12, 400));
        let hist = std::fs::read_to_string(out.join("history.csv")).unwrap();
        assert!((2..=6).contains(&hist.lines().count()), "{method}: {hist}");
        assert!(out.join("loss.png").exists() && out.join("atoms.png").exists());
    }
    // Too many atoms for the data: a one-line typed error.
    let r = dictum(&[
        "learn",
        "--signals",
        &yp.display().to_string(),
        "--atoms",
        "1000",
        "--k",
        "2",
        "--out",
        &dir.path().join("bad").display().to_string(),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8(r.stderr).unwrap();
    assert!(
        err.contains("1000 atoms") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn learn_amortized_task_driven_and_matryoshka() {
    use dictum::io::npy::{MatrixLayout, write_matrix};
    let dir = tempfile::tempdir().unwrap();
    let y = dictum::Mat::<f64>::from_fn(4, 200, |i, j| {
        if (i + j) % 2 == 0 {
            1.0 + 0.01 * (j % 7) as f64
        } else {
            0.02 * (i as f64)
        }
    });
    let t = dictum::Mat::<f64>::from_fn(200, 1, |j, _| if j % 2 == 0 { 1.0 } else { -1.0 });
    let (yp, tp) = (dir.path().join("Y.npy"), dir.path().join("t.npy"));
    write_matrix(&yp, y.as_ref(), MatrixLayout::SamplesAsRows).unwrap();
    write_matrix(&tp, t.as_ref(), MatrixLayout::Fortran).unwrap();
    let ys = yp.display().to_string();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name).display().to_string();
        let mut args = vec![
            "learn",
            "--signals",
            &ys,
            "--atoms",
            "4",
            "--iters",
            "3",
            "--out",
            &out,
        ];
        args.extend_from_slice(extra);
        let r = dictum(&args);
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        (dir.path().join(name), String::from_utf8(r.stdout).unwrap())
    };
    let (out, _) = run(
        "amortized",
        &["--method", "amortized", "--temperature", "0.5"],
    );
    assert!(out.join("W.npy").exists() && out.join("b.npy").exists() && out.join("D.npy").exists());
    let tps = tp.display().to_string();
    let (out, text) = run(
        "task",
        &[
            "--method",
            "task-driven",
            "--targets",
            &tps,
            "--loss",
            "logistic",
            "--lambda",
            "0.05",
        ],
    );
    assert!(text.contains("task loss"), "{text}");
    assert!(out.join("W.npy").exists() && out.join("c.npy").exists());
    let (out, _) = run("nested", &["--method", "ksvd", "--k", "2", "--matryoshka"]);
    assert!(out.join("X.npz").exists());
    // Task-driven without targets: a one-line error.
    let r = dictum(&[
        "learn",
        "--signals",
        &ys,
        "--atoms",
        "4",
        "--method",
        "task-driven",
        "--lambda",
        "0.1",
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8(r.stderr).unwrap().contains("--targets"));
}

#[test]
fn nmf_factorises_dense_and_sparse_files() {
    use dictum::io::npy::{MatrixLayout, write_matrix};
    let dir = tempfile::tempdir().unwrap();
    // V = W·H, samples x features = 30 x 12, rank 3, with some exact zeros.
    let w = dictum::Mat::<f64>::from_fn(30, 3, |i, k| {
        if (i + k) % 3 == 0 {
            0.0
        } else {
            1.0 + ((i * 7 + k) % 5) as f64
        }
    });
    let h = dictum::Mat::<f64>::from_fn(3, 12, |k, j| {
        if (j + 2 * k) % 4 == 0 {
            0.0
        } else {
            0.5 + ((j + k) % 3) as f64
        }
    });
    let v = &w * &h;
    // As numpy writes it: C order, samples as rows.
    let vp = dir.path().join("V.npy");
    write_matrix(&vp, v.transpose(), MatrixLayout::SamplesAsRows).unwrap();
    let sp = dir.path().join("V.npz");
    let csc = dictum::CscMatrix::from_dense(v.as_ref()).unwrap();
    dictum::io::sparse::save_csc(&sp, &csc, dictum::io::npz::Compression::Deflate).unwrap();
    for input in [&vp, &sp] {
        let out = dir.path().join("out");
        let r = dictum(&[
            "nmf",
            "--input",
            &input.display().to_string(),
            "--rank",
            "3",
            "--iters",
            "300",
            "--tol",
            "0",
            "--threads",
            "2",
            "--out",
            &out.display().to_string(),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let text = String::from_utf8(r.stdout).unwrap();
        let err: f64 = text
            .lines()
            .find(|l| l.starts_with("rel. error"))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap()
            .parse()
            .unwrap();
        assert!(err < 1e-3, "{text}");
        let wf = dictum::io::npy::MappedNpy::open(out.join("W.npy")).unwrap();
        let hf = dictum::io::npy::MappedNpy::open(out.join("H.npy")).unwrap();
        assert_eq!(
            (wf.shape(), hf.shape()),
            (&[30usize, 3][..], &[3usize, 12][..])
        );
    }
    let r = dictum(&[
        "nmf",
        "--input",
        &vp.display().to_string(),
        "--rank",
        "50",
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8(r.stderr).unwrap().contains("rank"));
}

#[test]
fn npeff_workflow_on_digits() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let ok = |args: &[&str]| {
        let r = dictum(args);
        assert!(
            r.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        String::from_utf8_lossy(&r.stdout).into_owned()
    };
    let train = ok(&[
        "npeff",
        "train-model",
        "--data",
        "digits",
        "--epochs",
        "20",
        "--out",
        &p("model.npz"),
    ]);
    assert!(train.contains("650 parameters"), "{train}");
    ok(&[
        "npeff",
        "pefs",
        "--model",
        &p("model.npz"),
        "--data",
        "digits",
        "--n-values",
        "64",
        "--out",
        &p("pefs.npz"),
    ]);
    ok(&[
        "npeff",
        "pefs",
        "--model",
        &p("model.npz"),
        "--data",
        "digits",
        "--kind",
        "low-rank",
        "--n-values",
        "128",
        "--top-k-classes",
        "3",
        "--examples",
        "400",
        "--out",
        &p("lrm.npz"),
    ]);
    let d = ok(&[
        "npeff",
        "d-npeff",
        "--pefs",
        &p("pefs.npz"),
        "--components",
        "10",
        "--iters",
        "100",
        "--threads",
        "2",
        "--out",
        &p("d.npz"),
    ]);
    assert!(d.contains("rel. error"), "{d}");
    let top = ok(&[
        "npeff",
        "top-examples",
        "--decomp",
        &p("d.npz"),
        "--data",
        "digits",
        "--k",
        "8",
        "--out",
        &p("top"),
    ]);
    assert!(top.contains("mean label purity"), "{top}");
    for f in [
        "top/top_examples.csv",
        "top/top_examples.md",
        "top/collage.png",
    ] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    ok(&[
        "npeff",
        "lrm-npeff",
        "--pefs",
        &p("lrm.npz"),
        "--components",
        "4",
        "--iters-g-only",
        "5",
        "--iters-joint",
        "10",
        "--out",
        &p("lrm_d.npz"),
    ]);
    ok(&[
        "npeff",
        "expand",
        "--decomp",
        &p("lrm_d.npz"),
        "--pefs",
        &p("lrm.npz"),
        "--components",
        "2",
        "--iters-g-only",
        "2",
        "--iters-joint",
        "3",
        "--out",
        &p("lrm_e.npz"),
    ]);
    ok(&[
        "npeff",
        "fit-coeffs",
        "--decomp",
        &p("lrm_e.npz"),
        "--pefs",
        &p("lrm.npz"),
        "--out",
        &p("W.npy"),
    ]);
    ok(&[
        "npeff",
        "sparsify",
        "--decomp",
        &p("d.npz"),
        "--top-per-component",
        "20",
        "--out",
        &p("ds.npz"),
    ]);
    ok(&[
        "npeff",
        "filter",
        "--pefs",
        &p("pefs.npz"),
        "--labels",
        "3,5",
        "--out",
        &p("f.npz"),
    ]);
    ok(&[
        "npeff",
        "fit-coeffs",
        "--decomp",
        &p("ds.npz"),
        "--pefs",
        &p("f.npz"),
        "--out",
        &p("Wf.npy"),
    ]);
    ok(&[
        "npeff",
        "dsf",
        "--model",
        &p("model.npz"),
        "--data",
        "digits",
        "--out",
        &p("dsf.npz"),
    ]);
    let per = ok(&[
        "npeff",
        "perturb",
        "--model",
        &p("model.npz"),
        "--data",
        "digits",
        "--decomp",
        &p("d.npz"),
        "--dsf",
        &p("dsf.npz"),
        "--components",
        "0,1",
        "--baseline",
        "64",
        "--out",
        &p("perturb.csv"),
    ]);
    assert!(per.contains("ratio"), "{per}");
    // A wrong kind of file is one clear line.
    let r = dictum(&[
        "npeff",
        "d-npeff",
        "--pefs",
        &p("lrm.npz"),
        "--components",
        "2",
        "--out",
        &p("x.npz"),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("needs diagonal PEFs"), "{err}");
}

#[test]
fn smt_fit_knn_embed_and_circle() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let ok = |args: &[&str]| {
        let r = dictum(args);
        assert!(
            r.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        String::from_utf8_lossy(&r.stdout).into_owned()
    };
    let circle = ok(&["smt", "circle", "--points", "5000", "--out", &p("circle")]);
    assert!(circle.contains("canonical correlations"), "{circle}");
    assert!(dir.path().join("circle/circle.png").exists());
    assert!(dir.path().join("circle/disk.png").exists());
    ok(&[
        "smt",
        "fit",
        "--data",
        "digits",
        "--split",
        "0.667",
        "--patch",
        "4",
        "--atoms",
        "128",
        "--dims",
        "16",
        "--kmeans-iters",
        "5",
        "--threads",
        "2",
        "--out",
        &p("model"),
    ]);
    assert!(dir.path().join("model/smt.npz").exists());
    let knn = ok(&[
        "smt",
        "knn",
        "--model",
        &p("model"),
        "--data",
        "digits",
        "--split",
        "0.667",
    ]);
    assert!(
        knn.contains("SMT features") && knn.contains("raw pixels"),
        "{knn}"
    );
    // Images from a file: N x H x W as numpy writes it.
    let digits = dictum::datasets::load_digits().unwrap();
    let imgs = dictum::io::Array {
        shape: vec![100, 8, 8],
        order: dictum::io::Order::C,
        data: dictum::io::ArrayData::F32(
            (0..100)
                .flat_map(|j| digits.images.col(j).iter().copied().collect::<Vec<_>>())
                .collect(),
        ),
    };
    dictum::io::npy::write(dir.path().join("x.npy"), &imgs).unwrap();
    ok(&[
        "smt",
        "embed",
        "--model",
        &p("model"),
        "--images",
        &p("x.npy"),
        "--out",
        &p("f.npy"),
    ]);
    let f = dictum::io::npy::read(dir.path().join("f.npy")).unwrap();
    assert_eq!(f.shape, vec![100, 64]);
    // A patch larger than the images is one clear line.
    let r = dictum(&[
        "smt",
        "fit",
        "--data",
        "digits",
        "--patch",
        "9",
        "--out",
        &p("bad"),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("does not fit"), "{err}");
}
