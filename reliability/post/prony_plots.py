"""Plot of a ``reliability fit-prony`` result: the data against the fit.

Left: the shifted master curve at the reference temperature (each temperature's points in its
colour, against reduced frequency f a_T for DMA data or reduced time t / a_T for relaxation data)
with the Prony series' closed forms E'(w), E''(w) or E(t).  Right: the measured shift factors
log10 a_T against temperature with the fitted law.  Log axes, units on every axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_prony_fit(fit, path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = fit.data
    temps = data.temperatures_C
    colours = plt.cm.coolwarm(np.linspace(0, 1, len(temps)))
    red = fit.reduced_log_freq()
    fig, (ax, axs) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.6, 1]})
    if data.kind == "dma":
        x = 10**red
        xs = np.geomspace(x.min(), x.max(), 300)
        Es, El = fit.storage_loss_MPa(xs)
        for T, c in zip(temps, colours):
            m = data.T_C == T
            ax.loglog(x[m], data.E_MPa[m], "o", color=c, ms=4, label=f"E' at {T:g} C")
            if data.E_loss_MPa is not None:
                ax.loglog(x[m], np.maximum(data.E_loss_MPa[m], 1e-30), "s", color=c, ms=3, mfc="none")
        ax.loglog(xs, Es, "k-", lw=1.5, label="Prony fit E'")
        ax.loglog(xs, El, "k--", lw=1.2, label="Prony fit E'' (squares: data)")
        ax.set_xlabel(f"reduced frequency f a_T (Hz), reference {fit.reference_C:g} C")
        ax.set_ylabel("storage / loss modulus (MPa)")
    else:
        t = 10**-red
        ts = np.geomspace(t.min(), t.max(), 300)
        for T, c in zip(temps, colours):
            m = data.T_C == T
            ax.loglog(t[m], data.E_MPa[m], "o", color=c, ms=4, label=f"E(t) at {T:g} C")
        ax.loglog(ts, fit.relaxation_MPa(ts), "k-", lw=1.5, label="Prony fit E(t)")
        ax.set_xlabel(f"reduced time t / a_T (s), reference {fit.reference_C:g} C")
        ax.set_ylabel("relaxation modulus E (MPa)")
    ax.set_title(f"{data.path.name}: master curve, {len(fit.E_MPa)} Prony terms, E_inf = {fit.E_inf_MPa:.4g} MPa",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)

    Tm = np.array(sorted(fit.log10_aT))
    axs.semilogy(Tm, [10 ** fit.log10_aT[T] for T in Tm], "o", color="C3", label="measured (pairwise shift)")
    Tl = np.linspace(Tm.min(), Tm.max(), 200)
    sh = fit.shift
    if sh["model"] == "wlf":
        lab = f"WLF C1 = {sh['C1']:.4g}, C2 = {sh['C2_K']:.4g} K"
    elif sh["model"] == "arrhenius":
        lab = f"Arrhenius Ea = {sh['Ea_J_per_mol'] / 1e3:.4g} kJ/mol"
    else:
        lab = "table (linear in log10 a_T)"
    axs.semilogy(Tl, 10 ** fit.law_log10_aT(Tl), "k-", label=f"{lab}; rms {fit.shift_rms_decades:.2g} decades")
    axs.set_xlabel("temperature (C)")
    axs.set_ylabel(f"shift factor a_T (-), 1 at {fit.reference_C:g} C")
    axs.set_title("shift factors", fontsize=10)
    axs.grid(True, which="both", alpha=0.3)
    axs.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
