"""Class keys: the key printed on a button is the key that writes its class."""
from al_widgets.widgets.support.keys import class_keys, key_of


def test_single_character_classes_are_their_own_keys():
    assert class_keys(list(range(10))) == {str(i): i for i in range(10)}  # press 5 for class 5, 0 for 0
    assert class_keys(["a", "b", "c"]) == {"a": "a", "b": "b", "c": "c"}


def test_longer_names_get_1_to_9_then_0_then_letters():
    classes = [f"class-{i}" for i in range(12)]
    keys = class_keys(classes)
    assert list(keys) == [*"1234567890", "a", "b"]
    assert keys["0"] == "class-9" and keys["a"] == "class-10"


def test_reserved_keys_are_never_a_class_key():
    keys = class_keys(["s", "t", "z"])  # would collide with skip / undo
    assert list(keys) == ["1", "2", "3"] and keys["1"] == "s"
    many = class_keys([f"c{i}" for i in range(40)])
    assert "s" not in many and "z" not in many and len(many) == 34  # the rest have no key


def test_key_of_distinguishes_types():
    keys = class_keys(["1", 2])  # "1" (a string) and 2 (an int)
    assert key_of(keys, "1") == "1" and key_of(keys, 2) == "2" and key_of(keys, 1) is None
    assert class_keys(None) == {}
