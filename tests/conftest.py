import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability.material import parse_material  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def make_material(name, **props):
    """An inline material, as a case's [materials.define.NAME] would give."""
    return parse_material(name, props, f"test:{name}")


@pytest.fixture(scope="session")
def repo():
    return REPO
