# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet restart: N running notebooks whose on-start script changes (a new idle time), with the
emulator's timing model at S seconds per phase.  One after another would take about 2*N*S s; the
role's one notebook_fleet task restarts them concurrently.  Prints the wall time of the restarting
run and of that task (profile_tasks), which is the restart.

    python -m bench.fleet_restart [--notebooks 20] [--phase-seconds 10]
"""

import argparse
import sys

from bench._stack import Stack, summarize

# roles/isolated_notebook/tasks/notebooks.yml: reconciles and restarts the fleet.
RESTART_TASKS = ("Create, reconcile and restart the notebooks",)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=int, default=20)
    parser.add_argument("--phase-seconds", type=float, default=10)
    args = parser.parse_args()
    with Stack(phase_seconds=args.phase_seconds) as stack:
        seconds, _tasks, _calls, _recap = stack.run(args.notebooks, idle_seconds=3600)
        print("converge  notebooks=%d phase=%ss wall=%.1fs" % (args.notebooks, args.phase_seconds, seconds), flush=True)
        seconds, tasks, calls, _recap = stack.run(args.notebooks, idle_seconds=1800)
        sm = stack.emulator.client("sagemaker")
        statuses = [
            sm.describe_notebook_instance(NotebookInstanceName="bench-%03d" % i)["NotebookInstanceStatus"]
            for i in range(args.notebooks)
        ]
        stops = calls.get("sagemaker", {}).get("StopNotebookInstance", 0)
        starts = calls.get("sagemaker", {}).get("StartNotebookInstance", 0)
        print(
            "restart   notebooks=%d phase=%ss wall=%.1fs sequential-estimate=%.0fs stops=%d starts=%d in-service=%d"
            % (
                args.notebooks,
                args.phase_seconds,
                seconds,
                2 * args.notebooks * args.phase_seconds,
                stops,
                starts,
                statuses.count("InService"),
            )
        )
        phase = {name: secs for name, secs in stack.task_seconds.items() if name.split(" : ")[-1] in RESTART_TASKS}
        if len(phase) != len(RESTART_TASKS):
            sys.exit("the run did not report the restart tasks: %s" % sorted(stack.task_seconds))
        print(
            "restart   phase (the notebook_fleet task) %.1fs of the run; the rest of site.yml %.1fs"
            % (sum(phase.values()), seconds - sum(phase.values()))
        )
        print("restart   calls: %s" % summarize(calls)[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
