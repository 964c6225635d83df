"""Where the declarative assets (contracts, rulesets, table specs) are found.

In a checkout they are the repository's own folders; inside the wheel that Glue
loads, ``setup.py`` has copied them to ``lakehouse/_assets``.

Example::

    asset_dir("contracts")             # <repo>/contracts, or lakehouse/_assets/contracts
    asset_dir("jobs") / "bronze_to_silver" / "rulesets"
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent.parent


def asset_dir(name: str) -> Path:
    """The folder of one kind of asset (``contracts``, ``jobs``, ``config``)."""
    packaged = _PACKAGE_DIR / "_assets" / name
    if packaged.is_dir():
        return packaged
    checkout = _REPO_ROOT / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"asset folder {name!r} is neither in the wheel ({packaged}) nor the checkout ({checkout})"
    )


def repo_root() -> Path | None:
    """The repository root when running from a checkout (editable install), else None."""
    return _REPO_ROOT if (_REPO_ROOT / "setup.py").is_file() else None
