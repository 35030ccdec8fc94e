"""Set-up's one addition to pyproject.toml: every build starts from an empty ``build/lib``.

setuptools copies the package into ``build/lib`` and packs the wheel from there, but never empties it first: a
module deleted from the source since an earlier build in this folder (after a ``git pull``) would still travel in
the next wheel (pypa/wheel issue 147). So the ``build`` command removes that folder before it runs. Everything else
(name, version, dependencies, package data) is in pyproject.toml.
"""
import shutil

from setuptools import setup
from setuptools.command.build import build


class CleanBuild(build):
    def run(self):
        shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()


setup(cmdclass={"build": CleanBuild})
