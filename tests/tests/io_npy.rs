//! `.npy`: numpy-written fixtures read exactly, round trips, and typed errors.

use dictum::io::npy::{self, MappedNpy, MatrixLayout, NpyFormatError, parse_header};
use dictum::io::{Array, ArrayData, DType, IoError, Order};
use dictum::{Mat, Real};
use dictum_tests::fixture;
use proptest::prelude::*;

/// The fixture matrix of `make_fixtures.py`: a[i, j] = (4 i + j)/2 - 1, shape 3 x 4.
fn a(i: usize, j: usize) -> f64 {
    (4 * i + j) as f64 * 0.5 - 1.0
}

#[test]
fn c_order_f32_is_read_transposed_without_copy() {
    let f = MappedNpy::open(fixture("f32_c_3x4.npy")).unwrap();
    assert_eq!(f.shape(), &[3, 4]);
    assert_eq!(f.order(), Order::C);
    assert_eq!(f.dtype(), DType::F32);
    // numpy's 3 x 4 C-order array is dictum's 4 x 3 matrix: column i is numpy row i
    let m = f.matrix::<f32>().unwrap();
    assert_eq!((m.nrows(), m.ncols()), (4, 3));
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(m[(j, i)], a(i, j) as f32);
        }
    }
    let data = f.data_bytes();
    assert!(
        std::ptr::eq(m.col(0).as_ptr().cast::<u8>(), data.as_ptr()),
        "zero-copy view"
    );
    assert_eq!(f.header().data_offset % 64, 0);
}

#[test]
fn fortran_order_f64_is_read_as_itself() {
    let f = MappedNpy::open(fixture("f64_f_3x4.npy")).unwrap();
    assert_eq!(f.order(), Order::Fortran);
    let m = f.matrix::<f64>().unwrap();
    assert_eq!((m.nrows(), m.ncols()), (3, 4));
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(m[(i, j)], a(i, j));
        }
    }
    // f32 requested: the zero-copy view refuses, the converting reader converts
    assert!(matches!(
        f.matrix::<f32>(),
        Err(IoError::DTypeMismatch { .. })
    ));
    let m32 = f.to_mat::<f32>().unwrap();
    assert_eq!(m32[(2, 3)], a(2, 3) as f32);
}

#[test]
fn integer_bool_scalar_and_empty_fixtures() {
    let i64s = npy::read(fixture("i64_1d.npy")).unwrap();
    assert_eq!(i64s.data, ArrayData::I64(vec![-3, 0, 7, 1 << 40]));
    let i32s = npy::read(fixture("i32_2x3.npy")).unwrap();
    assert_eq!(i32s.shape, vec![2, 3]);
    assert_eq!(i32s.data, ArrayData::I32(vec![-2, -1, 0, 1, 2, 3]));
    let m = i32s.to_mat::<f64>().unwrap();
    assert_eq!((m.nrows(), m.ncols(), m[(2, 1)]), (3, 2, 3.0));
    let u8s = npy::read(fixture("u8_1d.npy")).unwrap();
    assert_eq!(u8s.data, ArrayData::U8(vec![0, 1, 254, 255]));
    let bools = npy::read(fixture("bool_1d.npy")).unwrap();
    assert_eq!(bools.data, ArrayData::Bool(vec![true, false, true]));
    let scalar = npy::read(fixture("f64_scalar.npy")).unwrap();
    assert_eq!(
        (scalar.shape.clone(), scalar.data.clone()),
        (vec![], ArrayData::F64(vec![2.5]))
    );
    assert_eq!(scalar.matrix_shape(), Some((1, 1)));
    let empty = MappedNpy::open(fixture("f32_empty_0x5.npy")).unwrap();
    let m = empty.matrix::<f32>().unwrap();
    assert_eq!((m.nrows(), m.ncols()), (5, 0));
    let v2 = MappedNpy::open(fixture("f32_v2_header.npy")).unwrap();
    assert_eq!(v2.header().version, (2, 0));
    assert_eq!(v2.matrix::<f32>().unwrap()[(3, 2)], a(2, 3) as f32);
    let nan = npy::read(fixture("f32_nan_inf.npy")).unwrap();
    let s = dictum::io::ArrayStats::of(&nan.data).unwrap();
    assert_eq!((s.count, s.nan_count, s.inf_count), (4, 1, 1));
    assert_eq!(s.min, f64::NEG_INFINITY);
    assert_eq!(s.max, 3.0);
}

#[test]
fn three_dimensional_arrays_load_but_are_not_matrices() {
    let f = MappedNpy::open(fixture("f64_3d.npy")).unwrap();
    assert_eq!(f.shape(), &[2, 2, 2]);
    let err = f.matrix::<f64>().unwrap_err();
    assert!(matches!(err, IoError::Shape { .. }), "{err}");
    assert!(
        err.to_string().contains("f64_3d.npy"),
        "error names the file: {err}"
    );
    assert_eq!(f.to_array().unwrap().len(), 8);
}

#[test]
fn unsupported_files_get_typed_errors_naming_the_file() {
    let err = npy::read(fixture("f64_big_endian.npy")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("f64_big_endian.npy") && msg.contains("big-endian"),
        "{msg}"
    );
    let err = npy::read(fixture("c64_complex.npy")).unwrap_err();
    assert!(err.to_string().contains("unsupported dtype '<c8'"), "{err}");
    let err = npy::read(fixture("stored.npz")).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Format {
                source: NpyFormatError::BadMagic,
                ..
            }
        ),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = MappedNpy::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
    let err = npy::read(fixture("does_not_exist.npy")).unwrap_err();
    assert!(matches!(err, IoError::Io { .. }) && err.to_string().contains("does_not_exist"));
}

#[test]
fn truncated_files_are_reported() {
    let bytes = std::fs::read(fixture("f32_c_3x4.npy")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in [3, 9, 40, bytes.len() - 1] {
        let p = dir.path().join(format!("cut{cut}.npy"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let err = MappedNpy::open(&p).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::Format {
                    source: NpyFormatError::Truncated { .. } | NpyFormatError::BadMagic,
                    ..
                }
            ),
            "cut at {cut}: {err}"
        );
        assert!(npy::read(&p).is_err());
    }
}

#[test]
fn header_parser_errors() {
    let header = |dict: &str| {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b
    };
    let ok = parse_header(&header(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
    ))
    .unwrap();
    assert_eq!(
        (ok.dtype, ok.fortran_order, ok.shape),
        (DType::F64, true, vec![2, 3])
    );
    let ok = parse_header(&header(
        "{\"shape\": (7,), \"fortran_order\": False, \"descr\": \"|u1\"}",
    ))
    .unwrap();
    assert_eq!(ok.shape, vec![7]);
    assert!(matches!(
        parse_header(&header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
        )),
        Err(NpyFormatError::ShapeOverflow(_))
    ));
    assert!(matches!(
        parse_header(&header("{'descr': '<f8', 'shape': (2,), }")),
        Err(NpyFormatError::BadHeader(m)) if m.contains("fortran_order")
    ));
    assert!(matches!(
        parse_header(&header(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"
        )),
        Err(NpyFormatError::DType(_))
    ));
    assert!(matches!(
        parse_header(b"\x93NUMPY\x09\x00ab"),
        Err(NpyFormatError::UnsupportedVersion(9, 0))
    ));
    assert!(matches!(
        parse_header(b"PK\x03\x04...."),
        Err(NpyFormatError::BadMagic)
    ));
    assert!(
        parse_header(&header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"
        ))
        .is_err()
    );
}

#[test]
fn matrix_layouts_round_trip_and_chunks_cover_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mat::<f64>::from_fn(7, 10, |i, j| (i * 100 + j) as f64);
    for layout in [MatrixLayout::SamplesAsRows, MatrixLayout::Fortran] {
        let p = dir.path().join(format!("{layout:?}.npy"));
        npy::write_matrix(&p, m.as_ref(), layout).unwrap();
        let f = MappedNpy::open(&p).unwrap();
        let expected_shape = match layout {
            MatrixLayout::SamplesAsRows => [10, 7],
            MatrixLayout::Fortran => [7, 10],
        };
        assert_eq!(f.shape(), &expected_shape);
        assert_eq!(f.matrix::<f64>().unwrap(), m.as_ref());
        let chunks: Vec<_> = f.column_chunks::<f64>(3).unwrap().collect();
        assert_eq!(
            chunks.iter().map(|c| c.ncols()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
        assert_eq!(chunks[3].col(0)[6], 609.0);
        assert!(f.column_chunks::<f64>(0).is_err());
    }
    // a strided (non-contiguous) view is written correctly too
    let p = dir.path().join("sub.npy");
    npy::write_matrix(
        &p,
        m.as_ref().submatrix(1, 2, 3, 4),
        MatrixLayout::SamplesAsRows,
    )
    .unwrap();
    assert_eq!(
        MappedNpy::open(&p).unwrap().matrix::<f64>().unwrap(),
        m.as_ref().submatrix(1, 2, 3, 4)
    );
}

#[test]
fn failed_write_leaves_no_file_and_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.npy");
    let good = Array::vector(ArrayData::F32(vec![1.0, 2.0]));
    npy::write(&p, &good).unwrap();
    // shape and data disagree: the write fails before anything replaces x.npy
    let bad = Array {
        shape: vec![3],
        order: Order::C,
        data: ArrayData::F32(vec![1.0]),
    };
    assert!(matches!(npy::write(&p, &bad), Err(IoError::Shape { .. })));
    assert_eq!(npy::read(&p).unwrap(), good);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    // writing into a missing directory names the path
    let err = npy::write(dir.path().join("nope/x.npy"), &good).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

fn array_strategy() -> impl Strategy<Value = Array> {
    let shape = prop_oneof![
        Just(vec![]),
        (0usize..6).prop_map(|n| vec![n]),
        (0usize..5, 0usize..5).prop_map(|(a, b)| vec![a, b]),
        (1usize..3, 1usize..3, 1usize..4).prop_map(|(a, b, c)| vec![a, b, c]),
    ];
    (shape, any::<bool>(), 0u8..8).prop_flat_map(|(shape, fortran, kind)| {
        let n: usize = shape.iter().product();
        let order = if fortran { Order::Fortran } else { Order::C };
        let data = match kind {
            0 => proptest::collection::vec(any::<f32>(), n)
                .prop_map(ArrayData::F32)
                .boxed(),
            1 => proptest::collection::vec(any::<f64>(), n)
                .prop_map(ArrayData::F64)
                .boxed(),
            2 => proptest::collection::vec(any::<i64>(), n)
                .prop_map(ArrayData::I64)
                .boxed(),
            3 => proptest::collection::vec(any::<i32>(), n)
                .prop_map(ArrayData::I32)
                .boxed(),
            4 => proptest::collection::vec(any::<u8>(), n)
                .prop_map(ArrayData::U8)
                .boxed(),
            5 => proptest::collection::vec(any::<bool>(), n)
                .prop_map(ArrayData::Bool)
                .boxed(),
            6 => proptest::collection::vec("[a-z\u{e9}\u{4e2d}]{0,4}", n)
                .prop_map(|values| ArrayData::Unicode { width: 4, values })
                .boxed(),
            _ => proptest::collection::vec("[a-z]{0,3}", n)
                .prop_map(|v| ArrayData::Bytes {
                    width: 3,
                    values: v.into_iter().map(String::into_bytes).collect(),
                })
                .boxed(),
        };
        data.prop_map(move |data| Array {
            shape: shape.clone(),
            order,
            data,
        })
    })
}

fn same_bits(a: &ArrayData, b: &ArrayData) -> bool {
    match (a, b) {
        (ArrayData::F32(x), ArrayData::F32(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (ArrayData::F64(x), ArrayData::F64(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn npy_bytes_round_trip(array in array_strategy()) {
        let bytes = npy::to_bytes(&array).unwrap();
        let h = parse_header(&bytes).unwrap();
        prop_assert_eq!(h.data_offset % 64, 0);
        let back = npy::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back.shape, &array.shape);
        prop_assert_eq!(back.order, array.order);
        prop_assert!(same_bits(&back.data, &array.data));
    }

    #[test]
    fn header_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_header(&bytes);
        let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = parse_header(&with_magic);
        let _ = npy::from_bytes(&with_magic);
    }

    #[test]
    fn matrices_round_trip_through_files(r in 0usize..6, c in 0usize..6, fortran in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.npy");
        let m = Mat::<f32>::from_fn(r, c, |i, j| (i as f32) - 0.25 * j as f32);
        let layout = if fortran { MatrixLayout::Fortran } else { MatrixLayout::SamplesAsRows };
        npy::write_matrix(&p, m.as_ref(), layout).unwrap();
        let f = MappedNpy::open(&p).unwrap();
        prop_assert_eq!(f.matrix::<f32>().unwrap(), m.as_ref());
        let widened = f.to_mat::<f64>().unwrap();
        prop_assert_eq!(widened, Mat::<f64>::from_fn(r, c, |i, j| m[(i, j)].into_f64()));
    }
}
