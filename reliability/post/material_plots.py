"""Plot of a material-point test (stress-strain, creep curve, relaxation curve)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .files import atomic_save_figure  # noqa: E402


def plot_point_test(hist, test: str, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if test == "uniaxial":
        ax.plot(hist.strain, hist.stress_MPa, lw=1.8)
        ax.set_xlabel("strain (-)")
        ax.set_ylabel("stress (MPa)")
    elif test == "creep":
        ax.plot(hist.time_s, hist.strain, lw=1.8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("strain (-)")
        ax.set_xscale("symlog", linthresh=1.0)
    else:
        ax.plot(hist.time_s, hist.stress_MPa, lw=1.8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("stress (MPa)")
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    atomic_save_figure(fig, path)
    plt.close(fig)
