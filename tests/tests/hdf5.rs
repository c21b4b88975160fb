//! HDF5 round trips (feature `hdf5`).

use dictum::Mat;
use dictum::io::hdf5::{AttrValue, H5Reader, H5Writer};
use dictum::io::{Array, ArrayData, IoError, Order};

#[test]
fn datasets_groups_and_attributes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("npeff.h5");
    let w_mat = Mat::<f32>::from_fn(3, 5, |i, j| (i * 10 + j) as f32);
    let labels = Array::vector(ArrayData::I64(vec![0, 1, 1, 0, 2]));
    let fortran = Array {
        shape: vec![2, 3],
        order: Order::Fortran,
        data: ArrayData::F64(vec![1., 2., 3., 4., 5., 6.]),
    };
    {
        let w = H5Writer::create(&p).unwrap();
        w.write_matrix("data/W", w_mat.as_ref()).unwrap();
        w.write("data/labels", &labels).unwrap();
        w.write("f", &fortran).unwrap();
        w.group("losses/joint").unwrap();
        w.set_attr("data", "n_classes", &AttrValue::I64(3)).unwrap();
        w.set_attr("losses/joint", "log_loss_frequency", &AttrValue::F64(10.5))
            .unwrap();
        w.set_attr("data/W", "kind", &AttrValue::Str("coefficients".into()))
            .unwrap();
        assert!(!p.exists(), "nothing appears before finish");
        w.finish().unwrap();
    }
    let r = H5Reader::open(&p).unwrap();
    assert_eq!(
        r.dataset_names().unwrap(),
        vec!["data/W", "data/labels", "f"]
    );
    let back = r.read_matrix::<f32>("data/W").unwrap();
    assert_eq!(back, w_mat);
    assert_eq!(
        r.read("data/W").unwrap().shape,
        vec![5, 3],
        "(N, d) on disk"
    );
    assert_eq!(r.read("data/labels").unwrap().data, labels.data);
    let f = r.read_matrix::<f64>("f").unwrap();
    assert_eq!((f.nrows(), f.ncols(), f[(1, 2)]), (2, 3, 6.0));
    assert_eq!(r.attr("data", "n_classes").unwrap(), AttrValue::I64(3));
    assert_eq!(
        r.attr("losses/joint", "log_loss_frequency").unwrap(),
        AttrValue::F64(10.5)
    );
    assert_eq!(
        r.attr("data/W", "kind").unwrap(),
        AttrValue::Str("coefficients".into())
    );
    let err = r.read("data/H").unwrap_err();
    assert!(matches!(err, IoError::MissingMember { .. }), "{err}");
    assert!(r.attr("data", "missing").is_err());
}

#[test]
fn missing_and_non_hdf5_files_are_reported() {
    let err = H5Reader::open("/nonexistent/x.h5").unwrap_err();
    assert!(matches!(err, IoError::Io { .. }), "{err}");
    let fixture = dictum_tests::fixture("stored.npz");
    let err = H5Reader::open(&fixture).unwrap_err();
    assert!(matches!(err, IoError::Hdf5 { .. }), "{err}");
    assert!(err.to_string().contains("stored.npz"));
}
