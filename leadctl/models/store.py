"""Model files on disk: `<models_dir>/<group>/{fit,engagement,propensity}.txt`, `card.json`,
`calibration.json`. LightGBM text and JSON only, written atomically; never pickle."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb

from leadctl.errors import ModelError
from leadctl.features.spec import Feature
from leadctl.io.writers import write_json, write_text
from leadctl.models.lgbm import load_booster

KINDS = ("fit", "engagement", "propensity")


@dataclass
class LoadedModel:
    """A trained product group as `score` needs it."""

    group: str
    card: dict[str, Any]
    boosters: dict[str, lgb.Booster]
    calibration: dict[str, Any]
    features: dict[str, list[Feature]]
    path: Path

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unknown"))

    @property
    def types(self) -> list[str]:
        return list(self.card.get("activity_types", []))


def group_dir(models_dir: Path, group: str) -> Path:
    """A folder name for a product group (path separators and leading dots replaced)."""
    safe = re.sub(r"[\\/:*?\"<>|]", "_", group).lstrip(".") or "_"
    return models_dir / safe


def save_group(
    models_dir: Path,
    group: str,
    status: str,
    models: dict[str, str],
    calibration: dict[str, Any],
    card: dict[str, Any],
) -> list[Path]:
    """Write one group's files; a refused group keeps only its card (old models are removed so
    `score` cannot pick up a model the latest training refused)."""
    folder = group_dir(models_dir, group)
    written = []
    if status == "trained":
        for kind in KINDS:
            written.append(write_text(models[kind], folder / f"{kind}.txt"))
        written.append(write_json(calibration, folder / "calibration.json"))
    else:
        for name in [f"{k}.txt" for k in KINDS] + ["calibration.json"]:
            (folder / name).unlink(missing_ok=True)
    written.append(write_json(card, folder / "card.json"))
    return written


def read_card(models_dir: Path, group: str) -> dict[str, Any] | None:
    """The group's card, or None when the group was never trained."""
    path = group_dir(models_dir, group) / "card.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} cannot be read ({exc}); retrain with `leadctl train`") from None


def load_group(models_dir: Path, group: str) -> LoadedModel | None:
    """The trained model of a group; None when there is none (never trained, or refused)."""
    card = read_card(models_dir, group)
    if card is None or card.get("status") != "trained":
        return None
    folder = group_dir(models_dir, group)
    boosters = {}
    for kind in KINDS:
        path = folder / f"{kind}.txt"
        if not path.is_file():
            raise ModelError(
                f"{path} is missing but {folder / 'card.json'} says the group is trained; "
                "retrain with `leadctl train`"
            )
        boosters[kind] = load_booster(path.read_text(encoding="utf-8"), str(path))
    cal_path = folder / "calibration.json"
    try:
        calibration = json.loads(cal_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{cal_path} cannot be read ({exc}); retrain with `leadctl train`"
        ) from None
    by_name = {f["name"]: Feature.from_json(f) for f in card["features"]}
    features = {kind: [by_name[n] for n in card["models"][kind]["features"]] for kind in KINDS}
    for kind in KINDS:
        names = boosters[kind].feature_name()
        if names != [f.name for f in features[kind]]:
            raise ModelError(
                f"{folder / (kind + '.txt')} does not match its card (feature lists differ); "
                "retrain with `leadctl train`"
            )
    return LoadedModel(group, card, boosters, calibration, features, folder)
