# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""First converge and no-op re-run of playbooks/site.yml with 1, 10 and 50 notebooks: wall time,
tasks executed and AWS calls by service (counted at the emulator).  Prints one line per figure.

    python -m bench.stack_runs [--notebooks 1 10 50]
"""

import argparse
import json
import sys

from bench._stack import Stack, summarize


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    figures = {}
    for count in args.notebooks:
        with Stack() as stack:
            for phase in ("converge", "no-op"):
                seconds, tasks, calls, _recap = stack.run(count)
                text, writes = summarize(calls)
                reads = sum(sum(a.values()) for a in calls.values()) - writes
                figures["%s/%d" % (phase, count)] = {
                    "seconds": round(seconds, 1),
                    "tasks": tasks,
                    "writes": writes,
                    "reads": reads,
                    "calls": calls,
                }
                print(
                    "%-8s notebooks=%-3d wall=%6.1fs tasks=%-3d writes=%-4d reads=%-4d %s"
                    % (phase, count, seconds, tasks, writes, reads, text),
                    flush=True,
                )
    if len(args.notebooks) > 1 and "no-op/%d" % args.notebooks[0] in figures:
        first, last = args.notebooks[0], args.notebooks[-1]
        ratio = figures["no-op/%d" % last]["seconds"] / figures["no-op/%d" % first]["seconds"]
        per_notebook = (figures["no-op/%d" % last]["reads"] - figures["no-op/%d" % first]["reads"]) / (last - first)
        print(
            "no-op scaling: %d notebooks take %.2fx the time of %d; %.1f extra read calls per notebook"
            % (last, ratio, first, per_notebook)
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
