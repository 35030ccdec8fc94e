"""The ``tinygrad-lite`` command (also ``python -m tinygrad_lite.course``).

    tinygrad-lite check NOTEBOOK [NOTEBOOK ...]   run learners' notebooks, print each exercise's verdict
    tinygrad-lite release                          regenerate lessons/ from solutions/

Exit status: 0 when everything passed (check) or was written/unchanged (release); 1 when an exercise did not
pass or a lesson differs from its solution (release --check); 2 for unusable input (a missing file, a file
that is not a notebook, a notebook from another course), always with a one-line explanation, never a traceback.
"""
import argparse
import sys

from .notebooks import NotebookError


def _need_notebook_tools():
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError:
        raise NotebookError("the course tools need nbformat and nbclient: pip install 'tinygrad_lite[course]'") \
            from None


def cmd_check(args):
    from .notebooks import read_notebook, require_course_notebook
    from .runner import run_notebook
    for path in args.notebooks:  # refuse unusable input before running anything
        require_course_notebook(read_notebook(path), path)
    all_passed = True
    for path in args.notebooks:
        print(f"{path}")
        outcome = run_notebook(path, timeout=args.timeout)
        results = outcome["results"]
        width = max([len("exercise")] + [len(r["exercise"]) for r in results])
        print(f"  {'exercise':<{width}}  {'result':<14}  cases")
        for r in results:
            cases = f"{r['passed_cases']}/{r['total_cases']}" if r["total_cases"] else "-"
            print(f"  {r['exercise']:<{width}}  {r['status']:<14}  {cases}")
        passed = sum(r["status"] == "passed" for r in results)
        print(f"  {passed} of {len(results)} exercises passed")
        if args.verbose:
            for r in results:
                if r["status"] != "passed":
                    print("\n  " + r["message"].replace("\n", "\n  "))
        if outcome["errors"]:
            print(f"  {len(outcome['errors'])} cell(s) raised an error; the first: {outcome['errors'][0]}")
        all_passed &= passed == len(results)
    return 0 if all_passed else 1


def cmd_release(args):
    from .release import release
    report = release(args.solutions, args.lessons, check_only=args.check)
    for path, what in report:
        print(f"{what:>9}  {path}")
    if args.check and any(what in ("differs", "stale") for _, what in report):
        print("lessons/ is out of date: run `tinygrad-lite release` (never edit lessons by hand)")
        return 1
    return 0


def parser():
    p = argparse.ArgumentParser(prog="tinygrad-lite", description="The tinygrad_lite course tools.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("check", help="run notebooks top to bottom and print each exercise's verdict",
                       description="Run each notebook in a fresh kernel and print a table of its exercises' "
                                   "verdicts. Exit status 0 only when every exercise passed.")
    c.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="a lesson notebook (.ipynb)")
    c.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell (default 120)")
    c.add_argument("-v", "--verbose", action="store_true", help="also print the message of each exercise not passed")
    c.set_defaults(run=cmd_check)
    r = sub.add_parser("release", help="regenerate lessons/ from solutions/",
                       description="Write the learner's copy of every solution notebook: solutions replaced by "
                                   "stubs, outputs cleared, instructor cells dropped.")
    r.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    r.add_argument("--lessons", default="lessons", help="folder to write the lessons to (default: lessons)")
    r.add_argument("--check", action="store_true", help="write nothing; exit 1 if lessons/ is out of date")
    r.set_defaults(run=cmd_release)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        _need_notebook_tools()
        return args.run(args)
    except NotebookError as e:
        print(f"tinygrad-lite {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
