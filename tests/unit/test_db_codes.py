import pytest

from framework.db.codes import ALPHABET, CODE_LENGTH, format_code, generate_code, normalise_code


def test_alphabet_leaves_out_look_alike_characters():
    assert not set("0O1IL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET)


def test_generated_codes_use_the_alphabet_and_differ():
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)


def test_codes_are_shown_in_two_halves():
    assert format_code("ABCDEFGH") == "ABCD-EFGH"


@pytest.mark.parametrize(
    "typed", ["ABCD-EFGH", "abcd-efgh", "abcdefgh", " Abcd efgh ", "ab-cd ef-gh", "ABCD--EFGH\n"]
)
def test_typed_codes_are_forgiven_case_spaces_and_dashes(typed):
    assert normalise_code(typed) == "ABCDEFGH"


@pytest.mark.parametrize("typed", ["", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFG0", "ABCD-EFGO", "ABCD-EFGI", "ABCD-EFG!"])
def test_things_that_cannot_be_codes_are_refused(typed):
    assert normalise_code(typed) is None
