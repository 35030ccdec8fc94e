"""The engine must stay readable in one sitting: tensor.py plus the op definitions under 900 lines of code.

Lines of code here are lines holding code: blank lines, comments and docstrings do not count.
"""
import ast
import io
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_lite"
ENGINE = [PACKAGE / "tensor.py", PACKAGE / "autograd" / "function.py", *sorted((PACKAGE / "ops").glob("*.py"))]
LIMIT = 900


def lines_of_code(path):
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    code = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_counter_ignores_docstrings_comments_and_blank_lines(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Module doc."""\n\n# a comment\ndef f(x):\n    """Doc\n    on two lines."""\n'
                      '    return (x +\n            1)  # trailing comment\n')
    assert lines_of_code(sample) == 3


def test_engine_is_short_enough_to_read_in_one_sitting():
    sizes = {path.relative_to(PACKAGE).as_posix(): lines_of_code(path) for path in ENGINE}
    total = sum(sizes.values())
    assert total <= LIMIT, f"the engine has {total} lines of code (limit {LIMIT}): {sizes}"
