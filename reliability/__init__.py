"""reliability: finite-element thermo-mechanical reliability of semiconductor packages.

Units everywhere: mm, N, MPa, tonne, s, degrees C; warpage in micrometres.

The Python API (:mod:`reliability.api`, docs/api.md)::

    import reliability
    case = reliability.load("cases/bimetal.toml")                 # a case file or a dict
    res = case.with_overrides({"analysis.temperatures_C": [-40, 125]}).run(out="results/bi")
    res["warpage_um@125C"], res.temperatures, res.fields(), res.plots
    reliability.Results.open("results/bi"); reliability.sweep_run("sweeps/backside_thickness.toml")
"""

__version__ = "0.1.0"

# The API is imported on first use: `import reliability` stays light (Dask workers, the CLI).
_API = ("Case", "Results", "SweepResults", "load", "sweep_plan", "sweep_run")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'reliability' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
