//! Bundled datasets: shapes, and bit-exact agreement with the shared source files.

use dictum::datasets::{self, PatchSet};
use dictum::io::npy::MappedNpy;
use dictum::io::{ArrayData, IoError};
use dictum_tests::shared_data;

#[test]
fn digits_have_sklearn_shapes() {
    let d = datasets::load_digits().unwrap();
    assert_eq!((d.images.nrows(), d.images.ncols()), (64, 1797));
    assert_eq!(d.target.len(), 1797);
    assert!(d.target.iter().all(|&t| (0..10).contains(&t)));
    // sklearn's first digit is a 0 whose top-left pixel is blank
    assert_eq!((d.target[0], d.images[(0, 0)]), (0, 0.0));
}

#[test]
fn every_bundled_dataset_loads() {
    for info in datasets::DATASETS {
        let a = datasets::load(info.name).unwrap();
        assert!(!a.is_empty(), "{}", info.name);
    }
    let img = datasets::load_image("flower-small-noisy20").unwrap();
    assert_eq!((img.height, img.width), (213, 320));
    assert!(img.get(212, 319).is_some() && img.get(213, 0).is_none());
    assert_eq!(
        datasets::load_patches8(PatchSet::Test).unwrap().ncols(),
        5000
    );
    let err = datasets::load("mnist").unwrap_err();
    assert!(matches!(err, IoError::UnknownDataset { .. }));
    assert!(
        err.to_string().contains("digits"),
        "lists what exists: {err}"
    );
    assert!(datasets::load_image("digits").is_err());
}

#[test]
fn bundled_data_equals_the_shared_files_bit_for_bit() {
    let pairs = [
        ("digits", "digits_X.npy"),
        ("digits-target", "digits_y.npy"),
        ("china", "china_gray.npy"),
        ("flower-small-noisy20", "flower_gray_small_noisy20.npy"),
        ("patches8-train", "patches8_train.npy"),
        ("patches8-test", "patches8_test.npy"),
    ];
    for (name, file) in pairs {
        let Some(path) = shared_data(file) else {
            println!(
                "SKIP bundled_data_equals_the_shared_files: ../shared/data/{file} not present"
            );
            continue;
        };
        let bundled = datasets::load(name).unwrap();
        let shared = MappedNpy::open(path).unwrap().to_array().unwrap();
        assert_eq!(bundled.shape, shared.shape, "{name}");
        match (&bundled.data, &shared.data) {
            (ArrayData::F32(a), ArrayData::F32(b)) => {
                assert!(
                    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{name}"
                )
            }
            (a, b) => assert_eq!(a, b, "{name}"),
        }
    }
}
