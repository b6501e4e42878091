"""LabelMap: the arrays a retrain trains on, built incrementally, always equal to a rebuild."""
import numpy as np
import pytest

from al_widgets.core.session.label_arrays import LabelMap, tidy_labels


def rebuilt(m: dict, numeric: bool = False):
    idx = np.array(sorted(m), dtype=int)
    y = np.array([m[i] for i in idx], dtype=float if numeric else object)
    return idx, (y if numeric else tidy_labels(y))


def same(a, b):
    assert a[0].tolist() == b[0].tolist()
    assert a[1].dtype == b[1].dtype, (a[1].dtype, b[1].dtype)
    assert a[1].tolist() == b[1].tolist()


@pytest.mark.parametrize("values", [[0, 1, 2], ["a", "bb", "a much longer class"], [True, False],
                                    [1, "a"], [1, 2, "late string"]])
def test_label_map_arrays_equal_a_rebuild_after_any_changes(values):
    rng = np.random.default_rng(0)
    m = LabelMap({7: values[0]})
    ref: dict = {7: values[0]}
    kept = []
    for step in range(300):
        op = rng.random()
        key = int(rng.integers(0, 60))
        if op < 0.7:  # mostly new labels, as in a labeling session
            value = values[int(rng.integers(len(values)))] if step > 100 else values[step % min(2, len(values))]
            m[key] = value
            ref[key] = value
        elif op < 0.8 and ref:
            m.pop(key, None)
            ref.pop(key, None)
        if rng.random() < 0.3:
            got = m.arrays()
            same(got, rebuilt(ref))
            kept.append((got, rebuilt(ref)))
    for got, expected in kept:  # arrays handed out earlier were never modified afterwards
        same(got, expected)
    assert dict(m) == ref


def test_label_map_inserts_new_labels_in_order_and_widens_strings():
    m = LabelMap({5: "a", 1: "b"})
    idx, y = m.arrays()
    assert idx.tolist() == [1, 5] and y.tolist() == ["b", "a"] and y.dtype == np.dtype("<U1")
    m[3] = "longer"
    m[0] = "c"
    m[9] = "d"
    idx2, y2 = m.arrays()
    assert idx2.tolist() == [0, 1, 3, 5, 9]
    assert y2.tolist() == ["c", "b", "longer", "a", "d"]  # never truncated to one character
    assert idx.tolist() == [1, 5] and y.tolist() == ["b", "a"]  # the first arrays are unchanged


def test_label_map_regression_labels_are_floats_and_a_type_change_retypes_all():
    r = LabelMap({2: 1.5, 0: 2}, numeric=True)
    idx, y = r.arrays()
    assert y.dtype == float and y.tolist() == [2.0, 1.5]
    m = LabelMap({0: 1, 1: 2})
    assert m.arrays()[1].dtype.kind == "i"
    m[2] = "x"  # a string among integers: objects, never "1"
    idx, y = m.arrays()
    assert y.dtype == object and y.tolist() == [1, 2, "x"]
