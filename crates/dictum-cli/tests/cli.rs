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
