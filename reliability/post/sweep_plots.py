"""Plots of a sweep: main effects, tornado sensitivity, warpage vs life Pareto view."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..results import LIFE_N63, WARPAGE, metric_of  # noqa: E402
from .files import atomic_save_figure  # noqa: E402


def _outputs(df) -> list[str]:
    """The columns of numeric key outputs (warpage, dW, lives) that have a value."""
    plotted = [c for c in df.columns if (m := metric_of(c)) is not None and m.key and m.numeric]
    return [c for c in plotted if df[c].notna().any()]


def _of(outputs: list[str], metric) -> list[str]:
    return [o for o in outputs if metric_of(o) is metric]


def _levels(df, param, output):
    ok = df[df["status"] == "complete"]
    groups = ok.groupby(param)[output].mean()
    return list(groups.index), groups.to_numpy(dtype=float)


def sweep_plots(out: Path, params: list[str], df) -> dict[str, str]:
    plots: dict[str, str] = {}
    outputs = _outputs(df)
    if not outputs or (df["status"] == "complete").sum() == 0:
        return plots
    fig, axes = plt.subplots(len(outputs), len(params), figsize=(3.6 * len(params), 2.8 * len(outputs)),
                             squeeze=False)
    for i, o in enumerate(outputs):
        for j, p in enumerate(params):
            ax = axes[i, j]
            levels, means = _levels(df, p, o)
            x = np.arange(len(levels))
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels)
            if numeric:
                ax.plot(levels, means, "-o")
            else:
                ax.plot(x, means, "-o")
                ax.set_xticks(x, [str(v) for v in levels], fontsize=7, rotation=20)
            if i == len(outputs) - 1:
                ax.set_xlabel(p, fontsize=8)
            if j == 0:
                ax.set_ylabel(o, fontsize=8)
            ax.grid(alpha=0.3)
    fig.suptitle("main effects: mean of each output at each parameter level (completed cases)")
    fig.tight_layout()
    atomic_save_figure(fig, out / "main_effects.png")
    plt.close(fig)
    plots["main effects"] = "main_effects.png"

    target = next(iter(_of(outputs, LIFE_N63)), outputs[0])
    swings = []
    for p in params:
        _, means = _levels(df, p, target)
        if means.size:
            swings.append((p, float(np.nanmin(means)), float(np.nanmax(means))))
    swings.sort(key=lambda s: s[2] - s[1])
    overall = float(df.loc[df["status"] == "complete", target].mean())
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.6 * len(swings)))
    for k, (p, lo, hi) in enumerate(swings):
        ax.barh(k, hi - lo, left=lo, color="tab:blue")
    ax.axvline(overall, color="k", lw=1, label="mean of all cases")
    ax.set_yticks(range(len(swings)), [s[0] for s in swings], fontsize=8)
    ax.set_xlabel(target)
    ax.set_title(f"sensitivity (tornado): range of the level means of {target}")
    ax.legend(fontsize=8)
    atomic_save_figure(fig, out / "tornado.png")
    plt.close(fig)
    plots["tornado"] = "tornado.png"

    warps = _of(outputs, WARPAGE)
    warp = WARPAGE.key_of(25.0) if WARPAGE.key_of(25.0) in warps else next(iter(warps), None)
    life = next(iter(_of(outputs, LIFE_N63)), None)
    if warp and life:
        ok = df[(df["status"] == "complete") & df[warp].notna() & df[life].notna()]
        w = np.abs(ok[warp].to_numpy(dtype=float))
        n = ok[life].to_numpy(dtype=float)
        # Pareto front: no other case has both lower |warpage| and longer life
        front = np.array([not np.any((w <= w[i]) & (n >= n[i]) & ((w < w[i]) | (n > n[i]))) for i in range(len(w))],
                         dtype=bool)
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.scatter(w, n, c="0.6", label="cases")
        order = np.argsort(w[front])
        ax.plot(w[front][order], n[front][order], "-o", color="tab:red", label="Pareto front")
        for cid, x, y in zip(ok["case"][front], w[front], n[front]):
            ax.annotate(cid, (x, y), fontsize=7)
        ax.set_xlabel(f"|{warp}|")
        ax.set_ylabel(life)
        ax.set_title("warpage vs life: the front holds the cases no other beats on both")
        ax.grid(alpha=0.3)
        ax.legend()
        atomic_save_figure(fig, out / "pareto.png")
        plt.close(fig)
        plots["pareto"] = "pareto.png"
    return plots
