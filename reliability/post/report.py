"""A self-contained HTML report: inputs, table, plots (embedded), verdicts.

One file, no external reference: styles inline, every image a base64
``data:`` URI, so it can be mailed or archived as is.  The table is the one of
:mod:`reliability.results`; this module only reads results.
"""

from __future__ import annotations

import base64
import html
import re
import json
from pathlib import Path

from ..errors import CaseError
from ..results import Run, format_value, table
from .files import atomic_write_text

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
.verdict{background:#eef6ee;border-left:4px solid #3a3;padding:.5em 1em;margin:.3em 0}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}img{max-width:100%;border:1px solid #eee}
.small{color:#666;font-size:.85em}
"""


def _fmt(v) -> str:
    return "&ndash;" if v is None else html.escape(format_value(v))


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _table(header, rows) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>")
    return "\n".join(out) + "</table>"


def write_report(path: Path, runs, header, rows, verdicts: list[str], plots: dict[str, str], plot_dir: Path,
                 title: str | None = None) -> None:
    title = title or "Comparison: " + " vs ".join(r.name for r in runs)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    if verdicts:
        parts.append("<h2>Verdict</h2>" + "".join(f"<div class='verdict'>{html.escape(v)}</div>" for v in verdicts))
    ratios = "; ratios against the first case" if len(runs) > 1 else ""
    parts.append("<h2>Results</h2><p class='small'>Warpage in um (JEDEC sign: positive = convex), stresses in "
                 f"MPa, dW in MPa per cycle, lives in cycles{ratios}.</p>")
    parts.append(_table(header, rows))
    for caption, name in plots.items():
        parts.append(f"<h2>{html.escape(caption)}</h2>{_img(plot_dir / name)}")
    parts.append("<h2>Inputs</h2>")
    for r in runs:
        text = Path(r.case_path).read_text() if Path(r.case_path).is_file() else "(case file not found)"
        s = r.summary
        parts.append(f"<h3>{html.escape(r.name)}</h3><p class='small'>{html.escape(str(r.case_path))}; "
                     f"results {html.escape(str(r.folder))}; content hash {html.escape(str(s.get('content_hash')))}; "
                     f"version {html.escape(str(s.get('version')))}</p><pre>{html.escape(text)}</pre>")
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts))


_TEMPERATURE = re.compile(r"T([mp])(\d+(?:_\d+)?)C")


def _temperature_of(stem: str) -> float | None:
    """-40.0 from a file stem with ``Tm40C`` in it (run.temperature_label), else None."""
    m = _TEMPERATURE.search(stem)
    if not m:
        return None
    value = float(m.group(2).replace("_", "."))
    return -value if m.group(1) == "m" else value


def _plot_order(path: Path):
    """Plots grouped by kind, each kind in temperature order (-40, 25, 125, 217, not as text)."""
    stem = path.stem
    T = _temperature_of(stem)
    return (_TEMPERATURE.sub("", stem), T if T is not None else float("-inf"), stem)


def _caption(stem: str) -> str:
    """A readable title for a plot file: ``von_mises_Tm40C_outer_joint`` -> 'von Mises stress at -40 C, outer joint'."""
    T = _temperature_of(stem)
    head, _, tail = _TEMPERATURE.sub("@", stem).partition("@")
    text = " ".join(head.replace("_", " ").split()).replace("von mises", "von Mises stress")
    if T is not None:
        text += f" at {T:g} C"
    tail = " ".join(tail.replace("_", " ").split())
    return text + (f", {tail}" if tail else "")


def single_run_report(folder: Path) -> Path:
    """`reliability report DIR`: the same page for one run (its own plots)."""
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise CaseError(f"{folder}: no summary.json here; give a results folder written by `reliability run`")
    summary = json.loads(summary_path.read_text())
    run = Run(Path(summary.get("case_file", "")), summary["case"], folder, summary, True)
    header, rows = table([run])
    plots = {_caption(p.stem): p.name for p in sorted((folder / "plots").glob("*.png"), key=_plot_order)}
    verdicts = []
    cyc = summary.get("cycling") or {}
    if cyc and cyc.get("status") != "complete":
        # an interrupted or failed run must not read like a finished one
        verdicts.append(f"INCOMPLETE: the thermal cycling is {cyc.get('status', 'not finished')}"
                        + (f" ({cyc['message']})" if cyc.get("message") else "")
                        + "; its numbers, if any, are from the cycles before it stopped "
                        "(`reliability run CASE --resume` continues it)")
    proc = (summary.get("process") or {}).get("warpage_vs_temperature")
    if proc:
        w = max(abs(p["warpage_um"]) for p in proc["points"])
        lim = proc.get("limit")
        verdicts.append(f"reflow warpage curve {proc['profile']}: largest |warpage| {w:.1f} um"
                        + (f"; JEITA ED-7306 +/-{lim['limit_um']:g} um ({lim['label']}): "
                           + ("pass" if proc["passes"] else "FAIL") if lim else "")
                        + f" ({proc['section_bias']})")
    crit = cyc.get("critical_joint")
    if crit:
        lives = ", ".join(f"{m} N63.2 = {v['N63_2_cycles']:,.0f}" for m, v in crit["life"].items() if v.get("available"))
        verdicts.append(f"critical joint {crit['name']} ({crit['interface']} side, DNP {crit['dnp_mm']:.2f} mm): "
                        f"dW = {crit['dW_MPa']:.4g} MPa/cycle; {lives}"
                        + (f"; {crit['stabilisation_note']}" if crit.get("stabilisation_note") else ""))
        if crit.get("basis"):
            # the lives with their basis (joint, interface, cycle, stabilisation, method, constants) and warnings
            from ..analysis.cycling_results import life_lines

            verdicts.append(" | ".join(" ".join(line.split()) for line in life_lines(crit)))
    out = folder / "report.html"
    write_report(out, [run], header, rows, verdicts, plots, folder / "plots", title=f"Report: {summary['case']}")
    return out
