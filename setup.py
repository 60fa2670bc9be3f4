"""Build script: compiles every ``tmbcalc/ext/*.pyx`` against pysam's bundled htslib.

The extensions call htslib functions, so they link to pysam's ``libchtslib`` by its bare file
name (the same way pysam's own modules do) with an ``$ORIGIN``-relative run path to the
installed ``pysam`` package.  ``tmbcalc.ext`` imports pysam first, which makes the library
resolvable even when tmbcalc and pysam live in different site-packages.
"""
from __future__ import annotations

import glob
import os

import numpy
import pysam
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

PYSAM_DIR = os.path.dirname(pysam.__file__)
HTSLIB = next(os.path.basename(p) for p in pysam.get_libraries() if "libchtslib" in p)


def extension(pyx: str) -> Extension:
    name = pyx[:-4].replace(os.sep, ".")
    return Extension(
        name,
        [pyx],
        depends=sorted(glob.glob(os.path.join("tmbcalc", "ext", "*.h"))
                + glob.glob(os.path.join("tmbcalc", "ext", "*.pxd"))),
        include_dirs=[*pysam.get_include(), numpy.get_include()],
        define_macros=[*pysam.get_defines(), ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        library_dirs=[PYSAM_DIR],
        extra_compile_args=["-O3", "-Wno-unused-function", "-Wno-unreachable-code"],
        extra_link_args=[f"-l:{HTSLIB}", "-Wl,-rpath,$ORIGIN/../../pysam"],
    )


def extensions() -> list[Extension]:
    """All kernels; ``TMBCALC_ONLY_EXT=_depth,_vcfscan`` limits an in-place developer build."""
    only = {x for x in os.environ.get("TMBCALC_ONLY_EXT", "").split(",") if x}
    pyx = sorted(glob.glob(os.path.join("tmbcalc", "ext", "*.pyx")))
    return [extension(p) for p in pyx if not only or os.path.basename(p)[:-4] in only]


setup(
    # Top-level panels/ and calibration/ are data folders, mapped into the package explicitly.
    packages=[*find_packages(include=["tmbcalc", "tmbcalc.*"]), "tmbcalc._panels", "tmbcalc._calibration"],
    package_dir={"tmbcalc._panels": "panels", "tmbcalc._calibration": "calibration"},
    package_data={
        "tmbcalc._panels": ["*.toml", "*.bed.gz", "*.md", "*.txt"],
        "tmbcalc._calibration": ["*.json", "*.md"],
        "tmbcalc.ext": ["*.pyi", "*.pxd", "*.h"],
        "tmbcalc": ["py.typed", "examples/*"],
        "tmbcalc.tmb": ["profile_files/*.toml"],
    },
    ext_modules=cythonize(
        extensions(),
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
    zip_safe=False,
)
