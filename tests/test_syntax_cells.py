"""An exercise cell with a syntax error, in a notebook (tinygrad_lite/course/syntax.py): the error is shown once,
with the cell's number and its line; the check says so; use() hands the later cells the library's version,
labelled; no NameError follows. Run in an IPython shell of this process, as a kernel runs cells."""

import pytest

from tinygrad_lite.course import syntax


@pytest.fixture
def shell(ipython_shell):
    syntax.register(ipython_shell)
    return ipython_shell


def run(shell, source, capsys):
    result = shell.run_cell(source, store_history=True)  # (a kernel stores history: cells are numbered)
    out = capsys.readouterr()
    return result, out.out + out.err


def test_a_broken_exercise_cell_says_so_once_and_the_cells_after_it_keep_working(shell, capsys):
    run(shell, "import tinygrad_lite as tl\nfrom tinygrad_lite.course import check, use\n", capsys)
    result, shown = run(shell, "def dense_forward(x, W, b)\n    return x @ W.T + b\n", capsys)
    assert result.success  # no error output: the cells after it run
    n = result.execution_count  # as JupyterLab shows the cell: [n]
    assert f'File "cell [{n}]", line 1' in shown and "SyntaxError: expected ':'" in shown and "^" in shown
    assert all(len(line) <= 100 for line in shown.splitlines()), shown
    result, shown = run(shell, "res = check('01.dense_forward', dense_forward)\nprint(res.status)", capsys)
    assert shown.rstrip().endswith("error") and f"cell [{n}], has a SyntaxError at line 1: expected ':'" in shown
    assert "not attempted" not in shown and "NameError" not in shown
    result, shown = run(shell, "f = use('01.dense_forward', dense_forward)\n"
                               "print(f(tl.ones(2, 3), tl.ones(4, 3), tl.zeros(4)).shape)", capsys)
    assert result.success and "stands in for yours" in shown and "[2, 4]" in shown
    run(shell, "def dense_forward(x, W, b):\n    return x @ W.T + b\n", capsys)  # fixed: the learner's counts
    result, shown = run(shell, "print(check('01.dense_forward', dense_forward, quiet=True).status)", capsys)
    assert shown.strip() == "passed"


def test_a_class_exercise_and_an_indentation_error(shell, capsys):
    result, shown = run(shell, "class MyAdam:\n  def step(self):\n        pass\n    x = 1\n", capsys)
    assert result.success and "IndentationError" in shown and "04.MyAdam" in shown
    assert getattr(shell.user_ns["MyAdam"], syntax.ATTRIBUTE).startswith(
        f"your exercise cell, cell [{result.execution_count}], has an IndentationError at line 4")


@pytest.mark.parametrize("source", [
    "def helper(x)\n    return x\n",  # no exercise's name: Python's own error, as always
    "x = (1,\n",
])
def test_other_syntax_errors_are_left_to_python(shell, capsys, source):
    result, shown = run(shell, source, capsys)
    assert not result.success and isinstance(result.error_before_exec or result.error_in_exec, SyntaxError)


def test_cells_that_parse_are_untouched(shell, capsys):
    lines = ["def relu(x):\n", "    return x\n"]
    assert syntax.catch_exercise_syntax_errors(lines) is lines
    top_level_await = ["import asyncio\n", "await asyncio.sleep(0)\n", "def relu(x):\n", "    return x\n"]
    assert syntax.catch_exercise_syntax_errors(top_level_await) is top_level_await
    result, shown = run(shell, "%time def relu(x): return x\n", capsys)  # a magic: IPython's own transformation
    assert result.success and "SyntaxError" not in shown
    result, shown = run(shell, "%time def relu(x) return x\n", capsys)  # a broken one, judged after IPython's
    assert result.success and "01.relu" in shown and "SyntaxError" in shown
    assert syntax.register(shell) and syntax.register(shell)
    assert sum(t is syntax.catch_exercise_syntax_errors for t in shell.input_transformers_cleanup) == 1
    assert sum(t is syntax.after_ipython for t in shell.input_transformers_post) == 1
