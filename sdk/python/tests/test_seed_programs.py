from pathlib import Path

import pytest

from tests.seed_programs import PROGRAM_ONE, PROGRAM_TWO

SEED = Path(__file__).resolve().parents[4] / "shared" / "seed" / "pctx-py-announcement.txt"
# The work tree may sit beside shared/ (CI) or under /work (sessions).
CANDIDATES = [SEED, Path("/work/shared/seed/pctx-py-announcement.txt")]


@pytest.mark.parametrize("program", [PROGRAM_ONE, PROGRAM_TWO], ids=["one", "two"])
def test_programs_are_verbatim_from_the_seed(program):
    seed = next((p for p in CANDIDATES if p.exists()), None)
    if seed is None:
        pytest.skip("shared/seed/pctx-py-announcement.txt not found beside the repo")
    assert program in seed.read_text()
