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


@pytest.mark.parametrize("kind,model", models(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_model_declares_its_six_component_state_and_keeps_it(kind, model):
    """3D: the same names, the component axes six long; the 2D declaration is the 4-component one."""
    fields = model.state_fields_for(6)
    assert set(fields) == set(model.state_fields) and model.state_fields_for(4) == model.state_fields
    assert cs.fields_of(model, 6) == fields
    n = 5
    st = model.initial_state(n, n_components=6)
    assert set(st) == set(fields)
    for name, shape in fields.items():
        assert st[name].shape == (n, *shape), name
        four = model.state_fields[name]
        assert shape == tuple(6 if d == 4 else d for d in four), name  # only the component axes change
    assert cs.inelastic_strain(st).shape == (n, 6)
    # the large shear strain of the 2D case, on the yz plane at 25 C over 10 s
    eps = np.tile([0.0, 0.0, 0.0, 0.05, 0.0, 0.0], (n, 1))
    _, C, new = model.update(eps, 25.0, 10.0, st, np.zeros((n, 6)), np.zeros((n, 6)))
    assert np.shape(C) == (n, 6, 6)
    for name, shape in fields.items():
        assert new[name].shape == (n, *shape), name
    if kind == "elastic":
        assert np.all(cs.inelastic_work(new) == 0.0)
    else:
        assert np.all(cs.inelastic_work(new) > 0.0) and np.all(cs.equivalent_inelastic_strain(new) > 0.0)


@pytest.mark.parametrize("kind,model", [m for m in models() if m[0] != "elastic"], ids=lambda x: x if isinstance(x, str) else "")
def test_a_state_of_the_other_component_count_is_refused(kind, model):
    with pytest.raises(ValueError, match="n_components=6"):
        model.update(np.zeros((2, 6)), 25.0, 1.0, model.initial_state(2), np.zeros(6))
    with pytest.raises(ValueError, match="4 \\(2D\\) or 6 \\(3D\\)"):
        model.update(np.zeros((2, 5)), 25.0, 1.0, model.initial_state(2), np.zeros(5))
    with pytest.raises(ValueError, match="4 \\(2D\\) or 6 \\(3D\\)"):
        model.initial_state(2, n_components=3)
