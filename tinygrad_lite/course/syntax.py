"""An exercise cell with a syntax error, in a notebook.

Python refuses a whole cell that does not parse, so nothing in it is defined. An exercise cell with one missing
colon would leave its function undefined, and every later cell that names it (its check, ``use(...)``, the
lesson's experiments) would fail with a NameError far from the slip: one typo, six errors. So the course looks at
each cell before it runs (registered in IPython by the course's import, as ``pytorch.py`` is). When a cell does
not parse and defines an exercise's function or class (``def mlp_forward(``, ``class MyAdam(``), it

1. shows the syntax error once, where it is: the cell as JupyterLab numbers it (``[13]``), the line and the caret;
2. binds each such name to a stand-in that carries the error: the check cell reports the syntax error (not "not
   attempted"), and ``use(...)`` hands the later cells the library's version, labelled as such, as for any
   exercise that does not pass yet.

The learner fixes the cell and runs it again; from then on their own code counts. A cell that parses, or that
defines no exercise's name, is left to Python as it is. Outside IPython (a script, a grading kernel) nothing is
registered.
"""
import ast
import re
import sys
import traceback

from . import display

ATTRIBUTE = "__tgl_syntax_error__"  # on a stand-in: what is wrong with the learner's cell, one line
_DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)


def exercise_of(name):
    """The id of the registered exercise whose function or class is called ``name``, or None."""
    from .registry import exercise_named
    return exercise_named(name)


def syntax_error(source):
    """The SyntaxError that compiling ``source`` (a cell, after IPython's own transformations) raises, or None."""
    try:
        compile(source, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as error:  # (IndentationError and TabError are SyntaxErrors)
        return error
    except (ValueError, OverflowError):  # a null byte, a literal too large: Python's own message is clear
        return None
    return None


def stand_in(exercise_id, name, problem):
    """A function that stands for the learner's ``name`` while its cell does not parse: calling it raises
    NotImplementedError with ``problem`` (as an unsolved stub does); ``check`` reports ``problem`` itself."""
    def broken(*args, **kwargs):
        raise NotImplementedError(f"{exercise_id}: {problem}")
    broken.__name__ = broken.__qualname__ = name
    setattr(broken, ATTRIBUTE, problem)
    return broken


def report(error, names, count, user_ns, stream=None):
    """Show ``error`` (the cell's SyntaxError) once, bind each exercise name of ``names`` to its stand-in in
    ``user_ns``; ``count`` is the cell's execution count, as JupyterLab shows it."""
    stream = sys.stderr if stream is None else stream
    where = f"cell [{count}]" if count else "this cell"
    error.filename = where
    shown = "".join(traceback.format_exception_only(type(error), error)).rstrip()
    what = f"{type(error).__name__} at line {error.lineno}: {error.msg}"
    lines = [shown]
    for exercise_id, name in names:
        article = "an" if what[0] in "AEIOU" else "a"
        problem = (f"your exercise cell, {where}, has {article} {what}, so {name} is not defined: fix that cell "
                   "and run it, then run this check again")
        user_ns[name] = stand_in(exercise_id, name, problem)
        lines.append(f"{exercise_id}: until you fix this cell, its check reports this error,\n"
                     f"  and the cells after it use the library's {name} instead of yours")
    print("\n".join(lines), file=stream, flush=True)


def catch_exercise_syntax_errors(lines):
    """IPython input transformer: a cell that does not parse and defines an exercise's name becomes a call of
    ``report``; any other cell is left as it is.

    It runs first among IPython's transformers (``input_transformers_cleanup``), since IPython's own tokenize the
    cell and raise an IndentationError themselves; a cell with IPython's own syntax (``%magic``, ``!command``,
    ``name?``) is not Python yet there, so it is judged after IPython's transformations instead
    (``after_ipython``)."""
    if any(line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?") for line in lines):
        return lines
    return after_ipython(lines)


def after_ipython(lines):
    """``catch_exercise_syntax_errors`` for a cell that IPython has made Python (``input_transformers_post``)."""
    source = "".join(lines)
    names = _DEFINES.findall(source)
    if not names:
        return lines
    error = syntax_error(source)
    if error is None:
        return lines
    found = [(exercise_of(name), name) for name in dict.fromkeys(names)]
    found = [(exercise_id, name) for exercise_id, name in found if exercise_id is not None]
    if not found:
        return lines
    details = (error.msg, error.lineno, error.offset, error.text, getattr(error, "end_lineno", None),
               getattr(error, "end_offset", None))
    shell = display.shell()  # the cell's number is read now: IPython counts the cell as run before it runs it
    count = shell.execution_count if shell is not None else None
    return [f"__import__('tinygrad_lite.course.syntax', fromlist=['_'])._report_in_ipython("
            f"{type(error).__name__!r}, {details!r}, {found!r}, {count!r})\n"]


def _report_in_ipython(kind, details, found, count):
    """What a transformed cell runs: ``report`` with the running IPython's namespace."""
    shell = display.shell()
    error = {"IndentationError": IndentationError, "TabError": TabError}.get(kind, SyntaxError)(details[0], (
        "<cell>", *details[1:]))
    report(error, found, count, shell.user_ns if shell is not None else {})


def register(shell=None):
    """Add ``catch_exercise_syntax_errors`` to the running IPython, once; a no-op outside IPython."""
    shell = display.shell() if shell is None else shell
    if shell is None:
        return False
    def registered(transformers, transformer):  # by name: a reloaded module's function counts as the same
        return any(getattr(t, "__name__", "") == transformer.__name__ for t in transformers)
    if not registered(shell.input_transformers_cleanup, catch_exercise_syntax_errors):
        shell.input_transformers_cleanup.insert(0, catch_exercise_syntax_errors)  # before IPython's own
    if not registered(shell.input_transformers_post, after_ipython):
        shell.input_transformers_post.append(after_ipython)
    return True
