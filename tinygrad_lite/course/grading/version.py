"""Which code grades: a hash of the course package's code, the same in the grading kernel, in the grader, on each
Dask worker and in a Gradescope autograder, and part of the key of every stored grade."""
import hashlib
from pathlib import Path


def course_digest():
    """A hash of the course package's code (the checks, the references, the grader): the kernel and the grader must
    run the same version, and a stored grade is only reused for the version that made it."""
    course = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(course.rglob("*.py")):
        digest.update(str(path.relative_to(course)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
