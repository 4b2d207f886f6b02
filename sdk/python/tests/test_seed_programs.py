from pathlib import Path

import pytest

from tests.seed_programs import PROGRAM_ONE, PROGRAM_TWO

# A copy of the seed announcement, kept in the repo so the test reads nothing outside it.
SEED = Path(__file__).resolve().parent / "testdata" / "pctx-py-announcement.txt"


@pytest.mark.parametrize("program", [PROGRAM_ONE, PROGRAM_TWO], ids=["one", "two"])
def test_programs_are_verbatim_from_the_seed(program: str) -> None:
    assert program in SEED.read_text()
