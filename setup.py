"""Maps the folders plugins/ and tui/ to the import packages neurallog_plugins and neurallog_tui.

Everything else lives in pyproject.toml; only the package list needs code, so that a new
sub-package under any of the three folders is picked up without editing a list.
"""

from setuptools import find_packages, setup

FOLDERS = {"neurallog": "neurallog", "neurallog_plugins": "plugins", "neurallog_tui": "tui"}


def _packages() -> list[str]:
    found: list[str] = []
    for import_name, folder in FOLDERS.items():
        found.append(import_name)
        found += [f"{import_name}.{sub}" for sub in find_packages(where=folder)]
    return found


setup(packages=_packages(), package_dir=dict(FOLDERS.items()))
