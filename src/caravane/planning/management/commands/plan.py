"""`caravane plan`: run a planning scenario from the shell, with a progress bar, writing CSV and GeoJSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from caravane.planning.facilities import ImportRefused
from caravane.planning.pipeline import REGIONAL_MINIMUMS, ParameterError, Parameters, export_files, run_plan
from caravane.planning.solvers import SolverError


class Command(BaseCommand):
    help = "Analyse access to care, place mobile units and plan their tours; write CSV and GeoJSON."

    def add_arguments(self, parser):
        defaults = Parameters()
        parser.add_argument("--out", default="plan-output", help="Folder for the CSV and GeoJSON files")
        parser.add_argument("--facilities", action="append", default=[],
                            help="A facility list (CSV/GeoJSON) to import first, as SOURCE=PATH or PATH")
        parser.add_argument("--regions", default="", help="Region codes, comma-separated (default: all)")
        parser.add_argument("--units", type=int, default=defaults.n_units)
        parser.add_argument("--capacity", type=float, default=defaults.capacity,
                            help="People a unit serves (0: no limit)")
        parser.add_argument("--max-per-province", type=int, default=defaults.max_per_province, help="0: no limit")
        parser.add_argument("--regional-minimum", choices=REGIONAL_MINIMUMS, default=defaults.regional_minimum,
                            help="What each region with underserved communes is owed: its share of the units "
                                 "(at least one), one unit, or nothing")
        parser.add_argument("--pure-coverage", action="store_true",
                            help="Count every person the same (no weighting by the underservice index)")
        parser.add_argument("--reach-km", type=float, default=defaults.reach_km)
        parser.add_argument("--underserved-km", type=float, default=defaults.underserved_km)
        parser.add_argument("--thresholds-km", default=",".join(f"{t:g}" for t in defaults.thresholds_km))
        parser.add_argument("--care-kinds", default=",".join(defaults.care_kinds))
        parser.add_argument("--daily-km", type=float, default=defaults.daily_km)
        parser.add_argument("--weeks", type=int, default=defaults.horizon_weeks)
        parser.add_argument("--working-days", type=int, default=defaults.working_days)
        parser.add_argument("--overnight", action="store_true", help="Units need not return to base each evening")
        parser.add_argument("--all-bases", action="store_true", help="Urban communes may host a base too")
        parser.add_argument("--exact", action="store_true", help="Solve the placement exactly with HiGHS")
        parser.add_argument("--time-limit", type=float, default=defaults.time_limit)
        parser.add_argument("--no-tours", action="store_true")
        parser.add_argument("--save", metavar="NAME", help="Also save the run as a scenario under this name")

    def handle(self, *args, **opts):
        from caravane.planning.actions import do_finish_scenario, do_import_facilities

        for item in opts["facilities"]:
            source, _, path = item.rpartition("=")
            path = Path(path)
            try:
                batch = do_import_facilities(actor=None, source=source or path.stem, content=path.read_bytes(),
                                             filename=path.name)
            except (OSError, ImportRefused, ValueError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            self.stdout.write(f"{path.name}: {batch.accepted} facilities kept, {len(batch.rejected)} rejected")
            for row in batch.rejected[:20]:
                self.stdout.write(f"  row {row['row']}: {row['reason']}")
        try:
            params = Parameters.from_dict({
                "regions": [c.strip() for c in opts["regions"].split(",") if c.strip()], "n_units": opts["units"], "capacity": opts["capacity"] or None,
                "max_per_province": opts["max_per_province"] or None, "reach_km": opts["reach_km"],
                "regional_minimum": opts["regional_minimum"], "weight_by_underservice": not opts["pure_coverage"],
                "underserved_km": opts["underserved_km"],
                "thresholds_km": [float(t) for t in opts["thresholds_km"].split(",") if t],
                "care_kinds": [k.strip() for k in opts["care_kinds"].split(",") if k.strip()],
                "daily_km": opts["daily_km"], "horizon_weeks": opts["weeks"], "working_days": opts["working_days"],
                "return_to_base": not opts["overnight"], "rural_bases_only": not opts["all_bases"],
                "solver": "exact" if opts["exact"] else "heuristic", "time_limit": opts["time_limit"],
                "tours": not opts["no_tours"]})
            outcome = run_plan(params, progress=self._bar)
        except (ParameterError, SolverError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            sys.stderr.write("\n")
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        for name, text in export_files(outcome["results"]).items():
            (out / name).write_text(text, encoding="utf-8")
        results = outcome["results"]
        self.stdout.write(json.dumps({"summary": results["summary"], "regions": results["regions"],
                                      "pure_coverage": results["pure_coverage"], "timings": outcome["timings"]},
                                     indent=1))
        self.stdout.write(f"files written to {out}/")
        if opts["save"]:
            from caravane.planning.models import Scenario

            scenario = Scenario.objects.create(name=opts["save"][:120], parameters=params.to_dict(),
                                               status=Scenario.Status.RUNNING)
            do_finish_scenario(scenario=scenario, outcome=outcome)
            self.stdout.write(f"saved as scenario {scenario.pk}")

    @staticmethod
    def _bar(fraction: float, text: str) -> None:
        width = 30
        filled = int(round(width * fraction))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% {text[:40]:<40}")
        sys.stderr.flush()
