"""A material: its TOML schema and the object the solver uses.

A material file (``materials/<name>.toml``) and an inline definition in a case
(``[materials.define.<name>]``) share one schema.  Each property is a number
or a temperature table ``{T_C = [...], value = [...]}``; every number in a
library file carries a ``[source]`` entry with its provenance label
(C confirmed, S secondary, U unverified, D derived; see
``docs/physics_reference.md``).

Keys (units in the names):

* isotropic: ``E_MPa``, ``nu``, ``alpha_per_K``
* orthotropic: ``E1_MPa E2_MPa E3_MPa nu12 nu13 nu23 G12_MPa G13_MPa G23_MPa
  alpha1_per_K alpha2_per_K alpha3_per_K`` with 1 = along the section,
  2 = out of the section, 3 = through the thickness (see
  :mod:`reliability.constitutive.elastic`).

``alpha`` is the instantaneous coefficient of thermal expansion; the thermal
strain is its integral from the stress-free temperature.

A ``[viscoelastic]`` block (``E_inf_MPa``, ``terms = [{E_MPa, tau_s}, ...]``,
``reference_C``, ``shift = {model = "wlf" | "arrhenius" | "table", ...}``)
makes an isotropic material a generalized Maxwell solid with constant ``nu``
(:mod:`reliability.constitutive.viscoelastic`, docs/viscoelastic.md); its
``E_MPa`` is then optional and serves only where the material is treated as
elastic (default: the glassy modulus E_inf + sum E_i).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional, Union

import numpy as np
import pydantic

from .constitutive.elastic import ISOTROPIC_KEYS, ORTHOTROPIC_KEYS, ElasticLaw
from .constitutive.tables import Table
from .errors import MaterialError
from .validation import STRICT, Number, PositiveNumber, format_error


class TableSpec(pydantic.BaseModel):
    """A property tabulated against temperature (degrees C), linear between points."""

    model_config = STRICT
    T_C: list[Number]
    value: list[Number]

    @pydantic.model_validator(mode="after")
    def _shape(self):
        if len(self.T_C) < 2 or len(self.T_C) != len(self.value):
            raise ValueError("a table needs T_C and value lists of the same length, at least 2")
        if any(b <= a for a, b in zip(self.T_C, self.T_C[1:])):
            raise ValueError("table temperatures T_C must increase strictly")
        return self


PropertyValue = Union[Number, TableSpec]

# physical bounds per key prefix: (low, high, what is allowed)
_BOUNDS = {
    "E": (0.0, 2e6, "a modulus in MPa, > 0 and < 2e6"),
    "G": (0.0, 2e6, "a modulus in MPa, > 0 and < 2e6"),
    "nu": (-0.99, 0.4999, "a Poisson ratio in (-1, 0.5)"),
    "alpha": (-1e-4, 1e-3, "a CTE in 1/K between -1e-4 and 1e-3 (ppm/K * 1e-6)"),
}


def _bounds_for(key: str):
    for prefix, bounds in _BOUNDS.items():
        if key.startswith(prefix):
            return bounds
    return None


class AnandSpec(pydantic.BaseModel):
    """Anand constants (physics.md 2.1); ANSYS TB,ANAND order C1..C9."""

    model_config = STRICT
    s0_MPa: PositiveNumber
    Q_over_R_K: PositiveNumber
    A_per_s: PositiveNumber
    xi: PositiveNumber
    m: PositiveNumber
    h0_MPa: PositiveNumber
    s_hat_MPa: PositiveNumber
    n: PositiveNumber
    a: Number

    @pydantic.model_validator(mode="after")
    def _ranges(self):
        if not 0 < self.n < 1:
            raise ValueError("Anand n must lie in (0, 1)")
        if not 0 < self.m <= 1:
            raise ValueError("Anand m must lie in (0, 1]")
        if self.a <= 1:
            raise ValueError("Anand a must be > 1 (the exact s-integration needs it)")
        return self


class PlasticitySpec(pydantic.BaseModel):
    """Bilinear plasticity: yield stress and tangent modulus (MPa)."""

    model_config = STRICT
    yield_MPa: PositiveNumber
    tangent_modulus_MPa: PositiveNumber
    hardening: Literal["kinematic", "isotropic"] = "kinematic"


class PronyTermSpec(pydantic.BaseModel):
    """One Maxwell branch: modulus E_MPa, relaxation time tau_s at the reference temperature."""

    model_config = STRICT
    E_MPa: PositiveNumber
    tau_s: PositiveNumber


class WLFShiftSpec(pydantic.BaseModel):
    """log10 aT = -C1 (T - Tref) / (C2_K + T - Tref); optionally Arrhenius below Tref."""

    model_config = STRICT
    model: Literal["wlf"]
    C1: PositiveNumber
    C2_K: PositiveNumber
    Ea_below_J_per_mol: Optional[PositiveNumber] = None


class ArrheniusShiftSpec(pydantic.BaseModel):
    """ln aT = Ea / R (1/T - 1/Tref), T in K."""

    model_config = STRICT
    model: Literal["arrhenius"]
    Ea_J_per_mol: PositiveNumber


class TableShiftSpec(pydantic.BaseModel):
    """log10 aT against temperature (degrees C), linear between points."""

    model_config = STRICT
    model: Literal["table"]
    T_C: list[Number]
    log10_aT: list[Number]

    @pydantic.model_validator(mode="after")
    def _shape(self):
        if len(self.T_C) < 2 or len(self.T_C) != len(self.log10_aT):
            raise ValueError("a shift table needs T_C and log10_aT lists of the same length, at least 2")
        if any(b <= a for a, b in zip(self.T_C, self.T_C[1:])):
            raise ValueError("shift table temperatures T_C must increase strictly")
        if any(b > a for a, b in zip(self.log10_aT, self.log10_aT[1:])):
            raise ValueError("log10_aT must not increase with temperature (relaxation speeds up when hotter)")
        return self


ShiftSpec = Annotated[Union[WLFShiftSpec, ArrheniusShiftSpec, TableShiftSpec], pydantic.Field(discriminator="model")]


class ViscoelasticSpec(pydantic.BaseModel):
    """Generalized Maxwell solid: E(t) = E_inf + sum E_i exp(-t / (aT tau_i)), constant nu."""

    model_config = STRICT
    E_inf_MPa: PositiveNumber
    terms: list[PronyTermSpec]
    reference_C: Number
    shift: ShiftSpec

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        if not self.terms:
            raise ValueError("viscoelastic.terms needs at least one {E_MPa, tau_s}")
        glassy = self.E_inf_MPa + sum(t.E_MPa for t in self.terms)
        if glassy >= 2e6:
            raise ValueError(f"glassy modulus E_inf + sum E_i = {glassy:g} MPa is not < 2e6")
        if isinstance(self.shift, TableShiftSpec):
            T, v = self.shift.T_C, self.shift.log10_aT
            if not T[0] <= self.reference_C <= T[-1]:
                raise ValueError(f"the shift table ({T[0]:g} to {T[-1]:g} C) must contain reference_C")
            at_ref = float(np.interp(self.reference_C, T, v))
            if abs(at_ref) > 1e-9:
                raise ValueError(f"the shift table gives log10_aT = {at_ref:g} at reference_C = "
                                 f"{self.reference_C:g} C; it must be 0 there")
        return self


class DarveauxSpec(pydantic.BaseModel):
    """N0 = K1 dW^K2 (cycles), da/dN = K3 dW^K4 (mm/cycle), dW in MPa."""

    model_config = STRICT
    K1_cycles: PositiveNumber
    K2: Number
    K3_mm_per_cycle: PositiveNumber
    K4: Number


class SyedSpec(pydantic.BaseModel):
    """N = (W' dW)^-1, W' in 1/MPa."""

    model_config = STRICT
    W_prime_per_MPa: PositiveNumber


class EngelmaierSpec(pydantic.BaseModel):
    """N50 = 1/2 (dgamma / (2 eps_f'))^(1/c); c = c0 + c1 T_sj + c2 ln(1 + 360 / t_D);
    dgamma = F L_D |dalpha| dT / h, F the non-ideal factor (IPC-D-279: 0.5-1.5, 1 by default)."""

    model_config = STRICT
    eps_f: PositiveNumber = 0.325
    c0: Number = -0.442
    c1_per_C: Number = -6e-4
    c2: Number = 1.74e-2
    F: PositiveNumber = 1.0


class MorrowSpec(pydantic.BaseModel):
    """Morrow energy model dW = W_f' N^m: W_f' in MPa, fatigue exponent m < 0."""

    model_config = STRICT
    W_f_MPa: PositiveNumber
    m: float = pydantic.Field(lt=0.0)


class CoffinMansonSpec(pydantic.BaseModel):
    """dgamma_p / 2 = eps_f' (2 N50)^c on the FE inelastic shear strain range; c < 0."""

    model_config = STRICT
    eps_f: PositiveNumber
    c: float = pydantic.Field(lt=0.0)


class WeibullSpec(pydantic.BaseModel):
    model_config = STRICT
    shape: PositiveNumber = 4.0


class FatigueSpec(pydantic.BaseModel):
    model_config = STRICT
    darveaux: Optional[DarveauxSpec] = None
    syed: Optional[SyedSpec] = None
    engelmaier: Optional[EngelmaierSpec] = None
    morrow: Optional[MorrowSpec] = None
    coffin_manson: Optional[CoffinMansonSpec] = None
    weibull: WeibullSpec = WeibullSpec()


class MaterialSpec(pydantic.BaseModel):
    """Schema of a material file or an inline ``[materials.define.NAME]`` table."""

    model_config = STRICT

    name: Optional[str] = None
    description: str = ""
    model: Optional[Literal["isotropic", "orthotropic"]] = None
    aliases: list[str] = []
    Tg_C: Optional[Number] = None
    solidus_C: Optional[Number] = None
    valid_T_C: Optional[list[Number]] = None

    E_MPa: Optional[PropertyValue] = None
    nu: Optional[PropertyValue] = None
    alpha_per_K: Optional[PropertyValue] = None

    E1_MPa: Optional[PropertyValue] = None
    E2_MPa: Optional[PropertyValue] = None
    E3_MPa: Optional[PropertyValue] = None
    nu12: Optional[PropertyValue] = None
    nu13: Optional[PropertyValue] = None
    nu23: Optional[PropertyValue] = None
    G12_MPa: Optional[PropertyValue] = None
    G13_MPa: Optional[PropertyValue] = None
    G23_MPa: Optional[PropertyValue] = None
    alpha1_per_K: Optional[PropertyValue] = None
    alpha2_per_K: Optional[PropertyValue] = None
    alpha3_per_K: Optional[PropertyValue] = None

    # linear strain a polymer shrinks by in a process 'cure' step (> 0 shrinks; 0.1-0.4 % for EMC, physics.md 1.3, U)
    cure_shrinkage_linear: Optional[float] = pydantic.Field(None, ge=0.0, lt=0.1)

    anand: Optional[AnandSpec] = None
    plasticity: Optional[PlasticitySpec] = None
    viscoelastic: Optional[ViscoelasticSpec] = None
    fatigue: Optional[FatigueSpec] = None

    source: dict[str, str] = {}

    @pydantic.field_validator(*ISOTROPIC_KEYS, *ORTHOTROPIC_KEYS)
    @classmethod
    def _in_bounds(cls, value, info):
        bounds = _bounds_for(info.field_name)
        if value is None or bounds is None:
            return value
        lo, hi, what = bounds
        values = value.value if isinstance(value, TableSpec) else [value]
        for v in values:
            if not (lo < v < hi):
                raise ValueError(f"{v:g} is not {what}")
        return value

    @pydantic.field_validator("valid_T_C")
    @classmethod
    def _range(cls, value):
        if value is not None and (len(value) != 2 or value[1] <= value[0]):
            raise ValueError("valid_T_C must be [lowest, highest] in degrees C")
        return value

    @pydantic.model_validator(mode="after")
    def _complete(self):
        iso = [k for k in ISOTROPIC_KEYS if getattr(self, k) is not None]
        ortho = [k for k in ORTHOTROPIC_KEYS if getattr(self, k) is not None]
        model = self.model or ("orthotropic" if ortho else "isotropic")
        if model == "isotropic":
            if ortho:
                raise ValueError(f"isotropic material cannot have {ortho[0]}")
            # a viscoelastic material's modulus is its [viscoelastic] block (E_MPa optional, see below)
            missing = [k for k in ISOTROPIC_KEYS if k not in iso and not (k == "E_MPa" and self.viscoelastic)]
        else:
            if iso:
                raise ValueError(f"orthotropic material cannot have {iso[0]}; use E1_MPa.. alpha3_per_K")
            missing = [k for k in ORTHOTROPIC_KEYS if k not in ortho]
        if missing:
            raise ValueError(f"{model} material needs {', '.join(missing)}")
        if (self.anand or self.plasticity) and model != "isotropic":
            raise ValueError("Anand and bilinear plasticity need an isotropic elastic part")
        if self.anand and self.plasticity:
            raise ValueError("a material has either [anand] or [plasticity], not both")
        if self.viscoelastic:
            if model != "isotropic":
                raise ValueError("[viscoelastic] needs an isotropic material (nu, alpha_per_K)")
            if self.anand or self.plasticity:
                raise ValueError("a material has one of [anand], [plasticity] or [viscoelastic], not two")
            if isinstance(self.nu, TableSpec):
                raise ValueError("a viscoelastic material needs a constant nu (a number, not a table): "
                                 "the shear and bulk relaxation are taken proportional")
        self.model = model
        return self

    def numeric_keys(self) -> list[str]:
        keys = ISOTROPIC_KEYS if self.model == "isotropic" else ORTHOTROPIC_KEYS
        return [k for k in keys if getattr(self, k) is not None]


@dataclass
class Material:
    """A material as the solver sees it."""

    name: str
    description: str
    elastic: ElasticLaw
    origin: str  # file path, or "inline in <case>"
    spec: MaterialSpec = field(repr=False)

    @property
    def sources(self) -> dict[str, str]:
        return dict(self.spec.source)

    def fingerprint(self) -> str:
        """Content hash of the material's data (for result reuse)."""
        blob = json.dumps(self.spec.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def range_C(self) -> tuple[float, float]:
        return self.elastic.range_C


def _table(owner: str, key: str, value) -> Table:
    if isinstance(value, TableSpec):
        return Table(owner, key, value.value, value.T_C)
    return Table(owner, key, value)


def material_from_spec(name: str, spec: MaterialSpec, origin: str) -> Material:
    """Build the solver object from a validated spec."""
    props = {k: _table(name, k, getattr(spec, k)) for k in spec.numeric_keys()}
    if spec.viscoelastic is not None and "E_MPa" not in props:
        # the elastic part of a viscoelastic material (elastic-only analyses, exports): its glassy modulus
        ve = spec.viscoelastic
        props = {"E_MPa": Table(name, "E_MPa", ve.E_inf_MPa + sum(t.E_MPa for t in ve.terms)), **props}
    valid = tuple(spec.valid_T_C) if spec.valid_T_C else (-np.inf, np.inf)
    elastic = ElasticLaw(owner=name, symmetry=spec.model, props=props, valid_C=valid)
    if spec.viscoelastic is not None:
        _check_shift(name, spec, elastic, origin)
    if spec.model == "orthotropic":
        # fail now, at load time, if the constants are inconsistent anywhere in the table range
        lo, hi = elastic.range_C
        probe = [t for t in (lo, hi, 25.0) if np.isfinite(t) and lo <= t <= hi] or [25.0]
        for t in probe:
            try:
                elastic.stiffness(t)
            except MaterialError as exc:
                raise MaterialError(f"{origin}: {exc}") from None
    return Material(name=name, description=spec.description, elastic=elastic, origin=origin, spec=spec)


def _check_shift(name: str, spec: MaterialSpec, elastic: ElasticLaw, origin: str) -> None:
    """Fail at load time if the shift law is undefined somewhere in the material's temperature range."""
    from .constitutive.shift import make_shift

    lo, hi = elastic.range_C
    probe = [t for t in (lo, hi) if np.isfinite(t)]
    if not probe:
        return
    try:
        make_shift(spec.viscoelastic.shift, float(spec.viscoelastic.reference_C), name).log10_aT(np.array(probe))
    except MaterialError as exc:
        raise MaterialError(f"{origin}: {exc} (the material's data span {lo:g} to {hi:g} C)") from None


def parse_material(name: str, data: dict, origin: str, key_prefix: str = "") -> Material:
    """Validate raw TOML data and build a :class:`Material`.

    Raises :class:`MaterialError` with a one-line message on any problem.
    """
    try:
        spec = MaterialSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise MaterialError(format_error(err, origin, MaterialSpec, key_prefix)) from None
    return material_from_spec(spec.name or name, spec, origin)


def load_material_file(path) -> Material:
    """A material from a TOML file of the library's schema (its name: the ``name`` key or the file stem).

    Raises :class:`MaterialError` (one line) if the file is missing, not TOML or not a valid material.
    """
    import tomllib
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise MaterialError(f"material file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MaterialError(f"{path}: not valid TOML ({exc})") from None
    return parse_material(path.stem, data, str(path))


def find_material(name_or_path: str) -> Material:
    """A library material by name or alias, or a material file when the argument is a path (ends in
    .toml or names an existing file)."""
    from pathlib import Path

    from .library import get_material

    p = Path(name_or_path)
    if p.suffix.lower() == ".toml" or p.is_file() or "/" in name_or_path:
        return load_material_file(p)
    return get_material(name_or_path)
