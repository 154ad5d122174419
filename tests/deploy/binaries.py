"""Where the deployment checks find the workspace's debug binaries."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def binary_dir() -> Path:
    """$PAYMENTS_BIN_DIR, else $CARGO_TARGET_DIR/debug, else target/debug of the repository:
    where `cargo build --workspace --bins` put them."""
    if os.environ.get("PAYMENTS_BIN_DIR"):
        return Path(os.environ["PAYMENTS_BIN_DIR"])
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        target_path = Path(target)
        return (target_path if target_path.is_absolute() else REPO / target_path) / "debug"
    return REPO / "target" / "debug"
