"""The constitutive protocol (issue 15): every model declares its per-point state, the reported
quantities are read through accessors, and the declared shapes are what the model keeps after an update."""

import numpy as np
import pytest

from reliability.constitutive import state as cs
from reliability.constitutive.driver import _Elastic
from reliability.constitutive.models import inelastic_model
from reliability.library import get_material


def models():
    out = [("elastic", _Elastic(get_material("silicon").elastic))]
    for name in ("SAC305", "copper", "emc-low-cte-visco"):
        m = get_material(name)
        model = inelastic_model(m)
        assert model is not None, name
        out.append((model.kind, model))
    return out


@pytest.mark.parametrize("kind,model", models(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_model_declares_its_state_and_keeps_it(kind, model):
    fields = model.state_fields
    assert set(cs.REPORTED) <= set(fields)
    n = 5
    st = model.initial_state(n)
    assert set(st) == set(fields)
    for name, shape in fields.items():
        assert st[name].shape == (n, *shape), name
    assert cs.inelastic_strain(st).shape == (n, 4)
    assert cs.equivalent_inelastic_strain(st).shape == (n,) and cs.inelastic_work(st).shape == (n,)
    # a large shear strain at 25 C over 10 s: the state after the update has the declared fields and shapes
    eps = np.tile([0.0, 0.0, 0.0, 0.05], (n, 1))
    eth = np.zeros((n, 4))
    _, _, new = model.update(eps, 25.0, 10.0, st, eth, np.zeros((n, 4)))
    assert set(new) == set(fields)
    for name, shape in fields.items():
        assert new[name].shape == (n, *shape), name
    if kind == "elastic":
        assert np.all(cs.inelastic_work(new) == 0.0)
    else:  # it flowed or relaxed: positive work and equivalent strain
        assert np.all(cs.inelastic_work(new) > 0.0) and np.all(cs.equivalent_inelastic_strain(new) > 0.0)


def test_a_state_must_declare_the_reported_quantities():
    with pytest.raises(TypeError, match="must declare"):
        cs.make_state({"s": ()}, 3)
