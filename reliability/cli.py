"""Command line: the only place where errors become messages and exit codes.

Exit codes: 0 success, 2 bad input (case, material, mesh, geometry) or a
solver that stopped with a clear message, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from .errors import ReliabilityError

DESCRIPTION = """\
reliability: thermo-mechanical reliability of semiconductor packages.

Builds (or reads) a 2D cross-section, solves it with 6-node triangles, and
reports warpage (um, JEDEC sign: positive = convex), stresses (MPa) and, for
thermal cycling, solder-joint energy density and fatigue life.
Units: mm, N, MPa, tonne, s, degrees C.
"""

RUN_HELP = """\
Run a case file (TOML).  Writes into OUT (default results/<case name>/):
  summary.json        warpage_um, coplanarity_um, curvature_per_mm and the
                      maximum von Mises stress (MPa) per region at every
                      temperature; model, solver and material provenance
  fields.pvd          ParaView collection, one fields/*.vtu per temperature
                      (displacement_mm, stress components MPa, von_mises_MPa, region)
  plots/*.png         von Mises on the magnified deformed shape, warpage profiles
  process             (summary.json) with a process history: warpage, coplanarity
                      and max von Mises per region after each step, and the free
                      package's warpage over reflow 25 -> 260 -> 25 C with the
                      JEITA ED-7306 limit; plots/process_steps_warpage.png,
                      plots/reflow_warpage_curve.png, plots/von_mises_process_end.png
"""


def _cmd_run(args) -> int:
    from .run import run_case

    summary = run_case(args.case, args.out, progress=not args.quiet, resume=args.resume)
    out = Path(args.out) if args.out else Path("results") / summary["case"]
    secs = ", ".join(f"{role} {info['dofs']:,} dofs" for role, info in summary["sections"].items())
    solver = next(iter(summary["sections"].values()))["solver"]
    print(f"{summary['case']}: {secs}; solver {solver}; {summary['wall_time_s']:.2f} s -> {out}")
    has_assembly = "assembly" in summary["sections"]
    head = f"{'T (C)':>8} {'warpage (um)':>13} {'coplanarity (um)':>17}"
    if has_assembly:
        head += f" {'assembly warpage (um)':>22}"
    if summary["temperatures"]:  # a 3D assembly run has cycling only
        print(head + f" {'max von Mises (MPa)':>20}")
    for row in summary["temperatures"]:
        vm = max(row["von_mises_max_MPa"].values())
        line = f"{row['T_C']:8g} {row['warpage_um']:13.3f} {row['coplanarity_um']:17.3f}"
        if has_assembly:
            aw = row.get("assembly_warpage_um")
            line += f" {aw:22.3f}" if aw is not None else f" {'(not solved)':>22}"
        print(line + f" {vm:20.2f}")
    _print_process(summary)
    cyc = summary.get("cycling")
    if cyc and cyc.get("status") == "complete":
        prof = cyc["profile"]
        name = f"JEDEC {prof['jedec']}" if prof["jedec"] else "cycle"
        st = cyc["solver"]
        print(f"thermal cycling: {name} {prof['t_min_C']:g}/{prof['t_max_C']:g} C, {prof['cycles']} cycles; "
              f"{st['increments']} increments, {st['newton_iterations']} {st.get('newton', 'full')} iterations "
              "(residual evaluations), "
              f"{st['factorizations']} factorizations, {st['cutbacks']} cut-backs, {st['wall_time_s']:.1f} s")
        sub = cyc.get("submodel")
        if sub:
            top = sub["global_screening"][0]
            print(f"submodel: global model {sub['global_dofs']:,} dofs, joints {sub['global_joint_size_mm']:g} mm "
                  f"(screening only: largest coarse dW {top['dW_last_cycle_MPa']:.4g} MPa at {top['name']}); local "
                  f"models at {sub['local_joint_size_mm']:g} mm: "
                  + ", ".join(f"{m['joint']} ({m['s']:.0f} s)" for m in sub["local_models"]))
        crit = cyc.get("critical_joint")
        if crit:
            place = f"row {crit['row']}, column {crit['col']}, " if "row" in crit else ""
            print(f"critical joint {crit['name']} ({place}{crit['interface']} side, DNP {crit['dnp_mm']:.2f} mm): "
                  f"dW = {crit['dW_MPa']:.4g} MPa/cycle; {crit['stabilisation_note']}")
            from .analysis.cycling_results import life_lines

            for line in life_lines(crit):
                print(line if line.startswith(" ") else f"  {line}")
    return 0


def _cmd_process(args) -> int:
    from .process_case import section_steps
    from .sections import Section, sections

    from .case import load_case

    case = load_case(args.case)
    if not case.has_process:
        print(f"{case.path}: no process history (process.sequence = \"none\"): every material is stress-free at "
              f"{case.spec.analysis.stress_free_temperature_C:g} C")
        return 0
    if case.spec.geometry.model == "quarter_3d":  # the free 3D quarter: its own regions (no bumps, no traces)
        from .analysis.quarter3d import build_quarter

        model, assignment = build_quarter(case)
        secs = [Section("package, 3D quarter", model, assignment, "bottom", None)]
    else:
        secs = sections(case, Path(args.meshes))
    for s in secs:
        initial, steps, labels = section_steps(case, s)
        built_later = {r for st in steps for r in (getattr(st, "regions", None) or []) + list(getattr(st, "join", []))
                       if st.kind in ("activate", "reflow")}
        start = [r for r in s.model.region_names if r not in built_later]
        print(f"[{s.role}] {case.sequence} sequence: {', '.join(start)} exist from the start, stress-free at "
              f"{initial:g} C")
        for i, st in enumerate(steps):
            name = labels[i] if labels else f"{i + 1:2d}"
            claim = f"  [claim {st.claim}]" if st.claim else ""
            print(f"  {name}  {st.describe()}{claim}")
            if st.note:
                print(f"      {st.note}")
    return 0


def _print_process(summary: dict) -> None:
    proc = summary.get("process")
    if not proc:
        return
    steps, where = proc["steps"], "free package"
    if not steps and proc.get("sections"):  # a 3D assembly run has no free-package section: its own steps
        where, block = next(iter(proc["sections"].items()))
        steps = block["steps"]
    print(f"process ({proc['sequence']} sequence), {where} after each step:")
    for st in steps:
        print(f"  {st['index']:2d} {st['description'][:60]:<60} T = {st['T_C']:6.1f} C  warpage "
              f"{st['warpage_um']:+8.2f} um")
    curve = proc.get("warpage_vs_temperature")
    if curve:
        w = [p["warpage_um"] for p in curve["points"]]
        lim = curve["limit"]
        verdict = (f"JEITA ED-7306 limit +/-{lim['limit_um']:g} um ({lim['label']}): "
                   + ("pass at every temperature" if curve["passes"] else "FAIL")) if lim else curve["limit_note"]
        print(f"reflow curve {curve['profile']}: {min(w):+.2f} to {max(w):+.2f} um; {verdict}")


def _cmd_material(args) -> int:
    from .constitutive.driver import run_dma, run_test
    from .material import find_material
    from .post.files import atomic_write_text
    from .post.material_plots import plot_point_test

    mat = find_material(args.name)
    out = Path(args.out or ".")
    visco = getattr(mat.spec, "viscoelastic", None) is not None
    if args.test == "dma":
        temps = args.dma_temperatures or None
        res = run_dma(mat, temps, amplitude=args.strain if args.strain is not None else 1e-4)
        stem = f"{mat.name}_dma"
        atomic_write_text(out / f"{stem}.csv", res.csv())
        res.plot(out / f"{stem}.png", f"{mat.name}: DMA, uniaxial, strain amplitude "
                 f"{args.strain if args.strain is not None else 1e-4:g}")
        print(f"{'T (C)':>7} {'f (Hz)':>10} {'E_storage (MPa)':>16} {'E_loss (MPa)':>13} {'tan delta':>10}")
        for i, T in enumerate(res.temperatures_C):
            for j, f in enumerate(res.frequencies_Hz):
                Es, El = res.storage_MPa[i, j], res.loss_MPa[i, j]
                print(f"{T:7g} {f:10.3g} {Es:16.1f} {El:13.1f} {El / Es:10.4f}")
        print(f"{out / (stem + '.csv')}: {res.storage_MPa.size} points")
        print(f"{out / (stem + '.png')}")
        return 0
    # a polymer is driven to a small strain by default, a metal well into plasticity
    strain = args.strain if args.strain is not None else (1e-3 if visco else 0.3)
    hist = run_test(mat, args.test, args.temperature, strain_rate=args.strain_rate, strain=strain,
                    stress=args.stress, duration=args.time)
    stem = f"{mat.name}_{args.test}_{args.temperature:g}C"
    atomic_write_text(out / f"{stem}.csv", hist.csv())
    plot_point_test(hist, args.test, f"{mat.name}: {args.test} test at {args.temperature:g} C", out / f"{stem}.png")
    print(f"{out / (stem + '.csv')}: {len(hist.time_s)} points; final stress {hist.stress_MPa[-1]:.3f} MPa, "
          f"strain {hist.strain[-1]:.5g}, equivalent inelastic strain {hist.equivalent_inelastic_strain[-1]:.5g}")
    print(f"{out / (stem + '.png')}")
    return 0


def _cmd_mesh(args) -> int:
    from .case import load_case
    from .post.plots import plot_mesh
    from .sections import built_model

    case = load_case(args.case)
    if case.spec.geometry.family is None:
        print(f"error: {case.path}: geometry.mesh is a mesh file already; `reliability mesh` builds family cases",
              file=sys.stderr)
        return 2
    out_dir = Path(args.out or "meshes")
    model, path = built_model(case, case.spec.geometry.board, out_dir)
    zooms = []
    joints = model.info.get("joints", [])
    if joints:
        j = max(joints, key=lambda j: j["dnp_mm"])
        half = 0.6 * max(j["pad_package_mm"], j["pad_board_mm"], j["standoff_mm"]) + 0.1
        ymid = -0.5 * j["standoff_mm"]
        zooms.append((f"outermost joint {j['name']} (DNP {j['dnp_mm']:.2f} mm)",
                      (j["x_mm"] - half, ymid - half, j["x_mm"] + half, ymid + half)))
    png = path.with_suffix(".png")
    plot_mesh(model, png, f"{case.name}: {model.n_elements:,} six-node triangles, {model.n_nodes:,} nodes", zooms)
    print(f"{path}: {model.n_elements:,} elements, {model.n_nodes:,} nodes, regions: {', '.join(model.region_names)}")
    print(f"{png}: mesh coloured by region" + (", zoom on the outermost joint" if zooms else ""))
    return 0


def _model_kind(m) -> str:
    """What a material is in an inelastic analysis: Anand, bilinear, viscoelastic, orthotropic or elastic."""
    spec = m.spec
    if getattr(spec, "anand", None) is not None:
        return "Anand"
    if getattr(spec, "plasticity", None) is not None:
        return "bilinear"
    if getattr(spec, "viscoelastic", None) is not None:
        return "viscoelastic"
    return "orthotropic" if spec.model == "orthotropic" else "elastic"


def _cmd_materials(args) -> int:
    from .library import material_names

    if not args.name:
        from .library import load_library

        lib = load_library()
        print(f"{'name':<22} {'model':<12} {'T range (C)':<16} description")
        for name in material_names():
            m = lib[name.lower()]
            lo, hi = m.range_C
            rng = "any" if lo == float("-inf") and hi == float("inf") else f"{lo:g} to {hi:g}"
            print(f"{m.name:<22} {_model_kind(m):<12} {rng:<16} {m.description}")
        from .library import broken_files

        broken = broken_files()
        for message in broken.values():
            print(f"error: {message}", file=sys.stderr)
        if broken:
            print(f"error: {len(broken)} library file(s) did not load (above); cases that do not use them run",
                  file=sys.stderr)
        return 2 if broken else 0
    from .material import find_material

    m = find_material(args.name)
    print(f"{m.name}: {m.description}")
    print(f"  file: {m.origin}")
    print(f"  model: {_model_kind(m)} (elastic part {m.spec.model}); aliases: {', '.join(m.spec.aliases) or '-'}")
    for key, table in m.elastic.props.items():
        print(f"  {key:<14} {table.describe()}")
        src = m.sources.get(key)
        if not src and key == "E_MPa" and getattr(m.spec, "viscoelastic", None) is not None and m.spec.E_MPa is None:
            src = "D: the glassy modulus E_inf + sum E_i of [viscoelastic], used only where the material is elastic"
        if src:
            print(f"  {'':<14} source: {src}")
    for key in ("Tg_C", "solidus_C", "valid_T_C"):
        value = getattr(m.spec, key)
        if value is not None:
            print(f"  {key:<14} {value}" + (f"   source: {m.sources[key]}" if key in m.sources else ""))
    ve = getattr(m.spec, "viscoelastic", None)
    if ve is not None:
        from .constitutive.models import inelastic_model

        cm = inelastic_model(m)
        print(f"  viscoelastic   generalized Maxwell, E_inf {ve.E_inf_MPa:g} MPa, glassy "
              f"{cm.params.E_glassy_MPa:g} MPa, reference {ve.reference_C:g} C; {cm.shift.describe()}")
        for t in ve.terms:
            print(f"  {'':<14} E_i = {t.E_MPa:10g} MPa, tau_i = {t.tau_s:g} s")
        for key in ("E_inf_MPa", "terms", "reference_C", "shift"):
            src = m.sources.get(f"viscoelastic.{key}")
            if src:
                print(f"  {'':<14} source ({key}): {src}")
    for block in ("anand", "plasticity"):
        spec = getattr(m.spec, block, None)
        if spec is not None:
            values = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                               for k, v in spec.model_dump().items())
            print(f"  [{block}]" + " " * max(1, 13 - len(block)) + values)
            if block in m.sources:
                print(f"  {'':<14} source: {m.sources[block]}")
    fatigue = getattr(m.spec, "fatigue", None)
    if fatigue is not None:
        for name, spec in fatigue.model_dump().items():
            if spec:
                values = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in spec.items())
                print(f"  [fatigue.{name}] {values}")
                if f"fatigue.{name}" in m.sources:
                    print(f"  {'':<14} source: {m.sources[f'fatigue.{name}']}")
    if getattr(m.spec, "cure_shrinkage_linear", None) is not None:
        print(f"  {'cure_shrinkage_linear':<14} {m.spec.cure_shrinkage_linear:g}"
              + (f"   source: {m.sources['cure_shrinkage_linear']}" if "cure_shrinkage_linear" in m.sources else ""))
    if not args.no_plot:
        from .post.plots import plot_material

        out = Path(args.out or ".") / f"material_{m.name}.png"
        plot_material(m, out)
        print(f"  plot: {out}")
    return 0


def _cmd_compare(args) -> int:
    from .compare import compare, markdown

    out = Path(args.out)
    result = compare(args.cases, out, Path(args.results), progress=not args.quiet)
    for c in result["cases"]:
        print(f"{c['name']}: {'reused' if c['reused'] else 'solved'} ({c['results']})")
    print(markdown(result["columns"], result["rows"]))
    for v in result["verdicts"]:
        print(v)
    print(f"-> {out / 'comparison.csv'}, {out / 'comparison.json'}, {out / 'report.html'}")
    if args.readme:
        _update_readme(Path(args.readme), out, result)
    return 0


def _update_readme(readme: Path, out: Path, result: dict) -> None:
    """Replace the block between the results markers with this comparison (regenerated, not typed)."""
    from .compare import markdown

    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = readme.read_text()
    if start not in text or end not in text:
        print(f"error: {readme}: no {start} ... {end} block to update", file=sys.stderr)
        return
    figure = next((f for k, f in result["plots"].items() if "whole section" in k), None)
    cmd = "reliability compare " + " ".join(c["case_file"] for c in result["cases"]) + f" --out {out}"
    block = [start, f"Generated by `{cmd} --readme {readme}`.", "", markdown(result["columns"], result["rows"])]
    block += [f"- {v}" for v in result["verdicts"]]
    if figure:
        block += ["", f"![von Mises, same scale]({(out / figure).as_posix()})"]
    block.append(end)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(head + "\n".join(block) + tail)
    print(f"updated {readme}")


def _cmd_sweep(args) -> int:
    from .sweep import dry_run, run_sweep

    out = Path(args.out) if args.out else None
    if args.dry_run:
        # the first cases, the count and an estimated time (from a measured time per case); nothing solved
        plan = dry_run(Path(args.sweep), out, workers=args.workers, scheduler=args.scheduler,
                       estimate_from=getattr(args, "estimate_from", None))
        print("\n".join(plan.lines()))
        return 0
    summary = run_sweep(args.sweep, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.quiet)
    where = out or Path("results") / f"sweep_{Path(args.sweep).stem}"
    print(f"{summary['cases']} cases: {summary['complete']} complete ({summary['reused']} reused), "
          f"{summary['failed']} failed -> {where / 'sweep.csv'}, {where / 'sweep.parquet'}")
    return 0


def _cmd_calibrate(args) -> int:
    from .calibration import calibrate

    _, lines = calibrate(Path(args.calibration), args.out, progress=not args.quiet)
    print("\n".join(lines))
    return 0


def _cmd_fit_prony(args) -> int:
    # pyvisco is imported inside fit_prony (slow to import); the plot module only needs matplotlib
    from .fit_prony import FitDataError, fit_prony, material_toml, shift_table_csv
    from .post.files import atomic_write_text
    from .post.prony_plots import plot_prony_fit

    try:
        import pyvisco  # noqa: F401
    except ImportError:
        raise ReliabilityError("fit-prony needs pyvisco: pip install 'reliability[fit]' (or pip install pyvisco)") from None
    if args.nu is not None and not 0 <= args.nu < 0.5:
        raise FitDataError(f"--nu {args.nu:g}: Poisson's ratio must be in [0, 0.5)")
    if args.alpha is not None and not -1e-4 < args.alpha < 1e-3:
        raise FitDataError(f"--alpha {args.alpha:g}: a CTE in 1/K is expected (e.g. 9e-6)")
    terms = None if args.terms == "auto" else _positive_int(args.terms, "--terms")
    fit = fit_prony(Path(args.data), args.reference_C, args.shift, terms, kind=args.kind)
    name = args.name or Path(args.data).stem
    out = Path(args.out) if args.out else Path(f"{name}.toml")
    atomic_write_text(out, material_toml(fit, name, args.nu, args.alpha))
    png = plot_prony_fit(fit, out.with_suffix(".png"))
    atomic_write_text(out.with_name(out.stem + "_shift.csv"), shift_table_csv(fit))
    sh = fit.shift
    law = {"wlf": lambda: f"WLF C1 = {sh['C1']:.4g}, C2 = {sh['C2_K']:.4g} K",
           "arrhenius": lambda: f"Arrhenius Ea = {sh['Ea_J_per_mol']:.4g} J/mol",
           "table": lambda: "table"}[sh["model"]]()
    print(f"{fit.data.path}: {fit.data.kind}, {fit.data.T_C.size} points at "
          f"{', '.join(f'{t:g}' for t in fit.data.temperatures_C)} C; reference {fit.reference_C:g} C")
    print(f"{'T (C)':>8} {'log10 aT':>10} {'law':>10}")
    for T in sorted(fit.log10_aT):
        print(f"{T:8g} {fit.log10_aT[T]:10.4f} {float(fit.law_log10_aT(T)):10.4f}")
    print(f"shift: {law}, rms {fit.shift_rms_decades:.3g} decades")
    print(f"E_inf = {fit.E_inf_MPa:.6g} MPa; {len(fit.E_MPa)} terms ({fit.method}):")
    for E, tau in zip(fit.E_MPa, fit.tau_s):
        print(f"  E = {E:12.6g} MPa   tau = {tau:10.4g} s")
    for note in fit.notes:
        print(f"note: {note}")
    if args.nu is None or args.alpha is None:
        print("note: " + " and ".join(k for k, v in (("nu", args.nu), ("alpha_per_K", args.alpha)) if v is None)
              + f" must be added to {out} before it can be used (give --nu / --alpha)")
    print(f"{out}\n{png}\n{out.with_name(out.stem + '_shift.csv')}   ({fit.seconds:.1f} s)")
    return 0


def _positive_int(text: str, option: str) -> int:
    from .fit_prony import FitDataError

    try:
        n = int(text)
    except ValueError:
        raise FitDataError(f"{option} {text!r}: a whole number of Prony terms or 'auto'") from None
    return n


def _cmd_report(args) -> int:
    from .post.report import single_run_report

    print(single_run_report(Path(args.folder)))
    return 0


def _cmd_export_ccx(args) -> int:
    from .case import load_case
    from .export.calculix import export_case

    case = load_case(args.case)
    if case.spec.geometry.model == "quarter_3d":  # 3D quarter model: C3D10 deck (reliability/export/calculix3d.py)
        from .export.calculix3d import export_case3d

        paths = export_case3d(case)(args.out)
    else:
        paths = export_case(args.case, args.out)
    for path in paths:
        print(f"{path}   (run: ccx {path.with_suffix('')})")
    return 0


def _fit_csv_format() -> str:
    """The CSV format of fit-prony (its help text)."""
    from .fit_prony import CSV_FORMAT

    return CSV_FORMAT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reliability", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run a case file and write results",
                       description=RUN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", help="case file (TOML), e.g. cases/bimetal.toml")
    p.add_argument("--out", help="output folder (default results/<case name>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true",
                   help="continue a thermal-cycling run from its last checkpoint (OUT/checkpoint.npz; a 3D "
                        "assembly: OUT/checkpoint3d.npz, not with a submodel) of the same case and mesh")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("process", help="print a case's process steps (the claimed fabrication sequence) "
                       "without solving",
                       description="Print the steps a run goes through before the analysis: for a family case "
                       "its claimed fabrication sequence (regions formed, temperatures, the claims they come "
                       "from), or the case's own [[process.steps]]; per section (free package, assembly). "
                       "Builds the meshes (cached) to know the regions; solves nothing.")
    p.add_argument("case", help="case file (TOML)")
    p.add_argument("--meshes", default="meshes", help="mesh cache folder (default: meshes)")
    p.set_defaults(func=_cmd_process)

    p = sub.add_parser("material", help="material-point test (uniaxial, creep, relaxation, dma) of a material",
                       description="Drive one material point with the solver's constitutive code: "
                       "uniaxial (constant strain rate to a strain), creep (constant stress), relaxation "
                       "(ramp to a strain and hold), dma (sinusoidal strain: storage and loss modulus against "
                       "frequency at several temperatures). Writes <name>_<test>_<T>C.csv (time_s, strain_xx, "
                       "stress_MPa, inelastic strain) or <name>_dma.csv, and a PNG.")
    p.add_argument("name", help="material name, e.g. SAC305 (case-insensitive), or a material file (.toml)")
    p.add_argument("--test", choices=["uniaxial", "creep", "relaxation", "dma"], default="uniaxial")
    p.add_argument("--strain-rate", type=float, default=1e-3, help="1/s (uniaxial, relaxation ramp); default 1e-3")
    p.add_argument("--temperature", type=float, default=25.0, help="C; default 25")
    p.add_argument("--dma-temperatures", type=float, nargs="+", metavar="T",
                   help="C, temperatures of the dma test (default: reference -40 to +40 K for a viscoelastic "
                   "material, else 25)")
    p.add_argument("--strain", type=float, default=None,
                   help="final strain (uniaxial), held strain (relaxation) or amplitude (dma); default 0.3, "
                   "1e-3 for a viscoelastic material, 1e-4 amplitude for dma")
    p.add_argument("--stress", type=float, default=20.0, help="MPa, held stress (creep); default 20")
    p.add_argument("--time", type=float, default=None, help="s, duration of creep/relaxation; default 3600")
    p.add_argument("--out", help="output folder (default: current folder)")
    p.set_defaults(func=_cmd_material)

    p = sub.add_parser("mesh", help="build and mesh a package-family case, with a PNG of the mesh",
                       description="Build the case's package family (geometry.family) and write "
                       "meshes/<name>.msh, its metadata meshes/<name>.json and meshes/<name>.png "
                       "(mesh coloured by region, zoom on the outermost joint). `reliability run` builds "
                       "the same mesh on the fly and reuses it while the case is unchanged.")
    p.add_argument("case", help="case file (TOML) with geometry.family")
    p.add_argument("--out", help="folder for the mesh files (default: meshes)")
    p.set_defaults(func=_cmd_mesh)

    p = sub.add_parser("compare", help="run (or reuse) two or more cases and compare them side by side",
                       description="Runs each case, or reuses results/<name> when its content hash (case, mesh, "
                       "materials, code version) is unchanged, then writes into OUT: comparison.csv/.json/.md "
                       "(warpage, coplanarity, max von Mises per region, critical joint, dW, inelastic strain, "
                       "life per fatigue model, each with its ratio to the first case), plots on identical "
                       "scales, and report.html (self-contained).")
    p.add_argument("cases", nargs="+", help="case files (TOML), the first is the reference")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--results", default="results", help="where the runs live (default: results)")
    p.add_argument("--readme", help="also rewrite the results block of this README")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sweep", help="parametric sweep of a base case on Dask",
                       description="Expand the sweep file's parameters (grid, list or latin_hypercube) into "
                       "cases, validate them all, run them on Dask (a local cluster with --workers processes, "
                       "or an existing --scheduler), and write OUT/sweep.csv, sweep.parquet, each case's results "
                       "in OUT/runs/<case>/, and main-effects, tornado and Pareto plots. A failed case is "
                       "recorded with its message; the others go on.")
    p.add_argument("sweep", help="sweep file (TOML): base = case file, [parameters], [sampling]")
    p.add_argument("--out", help="output folder (default results/sweep_<name>)")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--resume", action="store_true",
                   help="skip cases whose results are complete and match the case's content hash")
    p.add_argument("--dry-run", action="store_true", help="generate and validate the cases, solve nothing")
    p.add_argument("--estimate-from", metavar="SOURCE",
                   help="dry run: time per case from a results folder, its summary.json, a sweep folder, or seconds")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("calibrate", help="fit the fatigue constants to test vehicles (measured N63.2)",
                       description="Read CALIBRATION.toml: [calibration] name (and optional models, description, "
                       "out) and [[vehicle]] tables, each a case file (case = ...: run, or its results reused "
                       "while unchanged) or a results folder (results = ...: its summary.json is read) with the "
                       "measured N63_2_cycles and optionally weibull_shape. Fits each model's constants for this "
                       "tool's method, holding the literature exponents unless enough vehicles fit them "
                       "(Darveaux: one common scale for one vehicle, K1 and K3 for two or more; Syed: W'; "
                       "Engelmaier: F; Morrow: W_f' (m with 3+); Coffin-Manson: eps_f' (c with 3+)), prints "
                       "the fit with its residuals, and writes calibrations/<name>.toml with the constants, "
                       "residuals, vehicles and the method (section, kinematics, averaging layer, joint element "
                       "size, solder model). A case cites it: [fatigue] calibration = \"calibrations/<name>.toml\". "
                       "See docs/fatigue.md.")
    p.add_argument("calibration", help="calibration input (TOML), paths in it relative to it")
    p.add_argument("--out", help="calibration file to write (default calibrations/<name>.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress bars when a vehicle case is run")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("fit-prony", help="fit a Prony series and shift law to DMA or relaxation data (pyvisco)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=textwrap.fill("Build the master curve at --reference-C from data at several temperatures "
                       "(time-temperature superposition: each temperature's set shifted on log-log axes onto its "
                       "neighbour), fit the Prony series E(t) = E_inf + sum E_i exp(-t/tau_i) to it with pyvisco "
                       "(E' and E'' together, or E(t)) and the shift law to the shift factors; write a material "
                       "file (OUT, default <name>.toml) with every number's [source], OUT.png (data against fit: "
                       "master curve and shift factors) and OUT_shift.csv (measured and fitted log10 a_T). "
                       "See docs/viscoelastic.md.", width=100) + "\n\n" + _fit_csv_format())
    p.add_argument("data", help="CSV file (format below)")
    p.add_argument("--reference-C", dest="reference_C", type=float, required=True,
                   help="reference temperature (C) of the master curve; one of the measured temperatures")
    p.add_argument("--shift", choices=["wlf", "arrhenius", "table"], default="wlf",
                   help="shift law fitted to the shift factors (table: the measured log10 a_T); default wlf")
    p.add_argument("--terms", default="auto",
                   help="number of Prony terms, or auto (pyvisco: one relaxation time per decade of the master "
                   "curve); default auto. Fewer than one per decade fits less well (docs/viscoelastic.md)")
    p.add_argument("--kind", choices=["dma", "relaxation"],
                   help="check the data are of this kind (otherwise taken from the CSV header)")
    p.add_argument("--name", help="material name (default: the CSV file's stem)")
    p.add_argument("--nu", type=float, help="Poisson's ratio written to the file (not measured by the test)")
    p.add_argument("--alpha", type=float, help="CTE in 1/K written as alpha_per_K (else the file says it must "
                   "be added)")
    p.add_argument("--out", help="material file to write (default <name>.toml)")
    p.set_defaults(func=_cmd_fit_prony)

    p = sub.add_parser("report", help="self-contained HTML report of one run",
                       description="Write DIR/report.html: inputs, results table, plots (embedded).")
    p.add_argument("folder", help="results folder of `reliability run`")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("export-ccx", help="write a CalculiX/Abaqus input deck of a case",
                       description="Write <out>/<case>_<section>.inp: the same mesh (CPE6, CPS6 or CAX6), "
                       "linear thermo-elastic materials with their temperature tables, the same supports, and "
                       "one static step per temperature of analysis.temperatures_C. Run it with `ccx <name>`; "
                       "displacements are printed to <name>.dat.")
    p.add_argument("case", help="case file (TOML)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_export_ccx)

    p = sub.add_parser("materials", help="list the material library, or show one material",
                       description="Without NAME: list every material with its model and temperature range. "
                       "With NAME: print its properties with their sources and write a plot of them "
                       "against temperature (material_<name>.png).")
    p.add_argument("name", nargs="?", help="material name or alias (case-insensitive), or a material file (.toml)")
    p.add_argument("--out", help="folder for the plot (default: current folder)")
    p.add_argument("--no-plot", action="store_true", help="print only")
    p.set_defaults(func=_cmd_materials)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReliabilityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
