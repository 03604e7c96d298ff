"""Pick the constitutive model of a material for an inelastic analysis.

The models take strain vectors of 4 components (2D sections: xx, yy, zz, xy) or
6 (3D: xx, yy, zz, yz, xz, xy), engineering shears, chosen by the arrays
passed; ``initial_state(n, n_components)`` makes the matching state.
"""

from __future__ import annotations

from .anand import AnandModel, AnandParameters
from .bilinear import BilinearModel, BilinearParameters
from .viscoelastic import ViscoelasticModel


def inelastic_model(material):
    """An :class:`AnandModel`, :class:`BilinearModel` or :class:`ViscoelasticModel` for ``material``,
    or ``None`` if elastic."""
    spec = material.spec
    if getattr(spec, "viscoelastic", None) is not None:
        return ViscoelasticModel.from_material(material)
    if spec.anand is not None:
        return AnandModel(material.name, AnandParameters(**spec.anand.model_dump()), material.elastic)
    if spec.plasticity is not None:
        return BilinearModel(material.name, BilinearParameters(**spec.plasticity.model_dump()), material.elastic)
    return None
