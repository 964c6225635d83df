"""One installable package, ``lakehouse``; its wheel is what AWS Glue loads.

The wheel also carries the declarative assets a job reads at run time (event
contracts, DQDL rulesets, table specs, environment parameters), copied in under
``lakehouse/_assets`` so that a Glue job needs nothing but the wheel.
"""

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
VERSIONS: dict = {}
exec((HERE / "lib" / "lakehouse" / "_versions.py").read_text(), VERSIONS)

# Folders (relative to the repository root) whose data files ship inside the wheel.
ASSET_DIRS = ["contracts", "jobs", "config", "workflows", "experiments", "metrics"]
ASSET_SUFFIXES = {".json", ".dqdl", ".yaml", ".yml", ".csv"}


class BuildWithAssets(build_py):
    """build_py that also copies the declarative assets into the package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "lakehouse" / "_assets"
        for folder in ASSET_DIRS:
            for path in (HERE / folder).rglob("*"):
                if path.is_file() and path.suffix in ASSET_SUFFIXES:
                    dest = target / path.relative_to(HERE)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)


setup(
    name="lakehouse",
    version="0.1.0",
    description="AWS Glue PySpark ETL suite: Bronze JSON events to Silver and Gold Delta tables",
    license="Apache-2.0",
    python_requires=">=3.11,<3.12",
    package_dir={"": "lib"},
    # The synthetic generator serves tests, the demo and the bench; Glue never loads it.
    packages=find_packages("lib", exclude=["lakehouse.synthetic", "lakehouse.synthetic.*"]),
    package_data={"lakehouse.finance.ledger": ["migrations/*.sql"]},
    install_requires=VERSIONS["RUNTIME_REQUIREMENTS"],
    extras_require={
        "local": VERSIONS["LOCAL_REQUIREMENTS"],
        "dev": VERSIONS["DEV_REQUIREMENTS"],
    },
    entry_points={"console_scripts": ["lakehouse=lakehouse.cli:main"]},
    cmdclass={"build_py": BuildWithAssets},
)
