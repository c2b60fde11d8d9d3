"""Load one YAML config into typed pydantic models; unknown keys suggest the closest valid key."""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from leadctl.config.assign import AssignConfig
from leadctl.config.base import StrictModel
from leadctl.config.expire import ExpireConfig
from leadctl.config.inputs import InputsConfig, TableConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import RateConfig
from leadctl.config.reporting import ReportConfig, RunConfig
from leadctl.config.scoring import PointsConfig, ScoreConfig, TrainConfig
from leadctl.config.verify import VerifyConfig
from leadctl.errors import ConfigError

__all__ = ["LeadctlConfig", "OutputConfig", "TableConfig", "load_config", "config_hash"]


class OutputConfig(StrictModel):
    """Where outputs, models and run-to-run state go (relative paths: to the config file)."""

    dir: Path = Path("out")
    models_dir: Path | None = None
    state_dir: Path | None = None
    escape_formulas: bool = True

    def run_dir(self, as_of: date) -> Path:
        """The directory one night's outputs are written to: <dir>/<as-of>."""
        return self.dir / as_of.isoformat()

    @property
    def models(self) -> Path:
        return self.models_dir or self.dir / "models"

    @property
    def state(self) -> Path:
        return self.state_dir or self.dir / "state"


class LeadctlConfig(StrictModel):
    """The whole config file."""

    version: int = 1
    product_groups: list[str] = Field(default_factory=list)
    inputs: InputsConfig = Field(default_factory=InputsConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    score: ScoreConfig = Field(default_factory=ScoreConfig)
    points: PointsConfig = Field(default_factory=PointsConfig)
    rate: RateConfig = Field(default_factory=RateConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    assign: AssignConfig = Field(default_factory=AssignConfig)
    expire: ExpireConfig = Field(default_factory=ExpireConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    run: RunConfig = Field(default_factory=RunConfig)

    @model_validator(mode="after")
    def _unique_groups(self) -> LeadctlConfig:
        if len(set(self.product_groups)) != len(self.product_groups):
            raise ValueError("product_groups has duplicates")
        return self


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Valid keys of the config section at `loc` (walks nested models, dicts and lists)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                break
            current = field.annotation
        else:
            args = [a for a in get_args(current) if a is not type(None)]
            origin = get_origin(current)
            if origin is dict and len(args) == 2:
                current = args[1]
            elif origin is list and args:
                current = args[0]
            elif args:  # Optional[X] / Union: take the first model among the options
                models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
                current = models[0] if models else args[0]
                if isinstance(current, type) and issubclass(current, BaseModel):
                    field = current.model_fields.get(str(part))
                    if field is None:
                        break
                    current = field.annotation
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = [a for a in get_args(current) if a is not type(None)]
        if not args:
            return []
        current = args[-1] if get_origin(current) is dict else args[0]
    return list(current.model_fields)


def _describe(exc: ValidationError, path: Path) -> str:
    """Turn pydantic's errors into lines that name the key and say what to do."""
    lines = [f"config {path} is not valid:"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            valid = _fields_at(LeadctlConfig, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            lines.append(f"  - unknown key '{dotted}'{hint} (valid here: {', '.join(valid)})")
        else:
            lines.append(f"  - {dotted}: {err['msg']}")
    return "\n".join(lines)


def _resolve_paths(cfg: LeadctlConfig, base: Path) -> None:
    """Make every path absolute: config-relative, and table paths relative to inputs.dir."""
    cfg.inputs.dir = (base / cfg.inputs.dir).resolve()
    for table in cfg.inputs.tables.values():
        table.path = cfg.inputs.dir / table.path
    out = cfg.output
    out.dir = (base / out.dir).resolve()
    if out.models_dir is not None:
        out.models_dir = (base / out.models_dir).resolve()
    if out.state_dir is not None:
        out.state_dir = (base / out.state_dir).resolve()


def parse_config(data: Any, *, source: Path) -> LeadctlConfig:
    """Validate an already-parsed YAML document; paths are taken relative to `source`'s folder."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {source} must be a mapping of sections at the top level")
    try:
        cfg = LeadctlConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    _resolve_paths(cfg, source.parent)
    return cfg


def load_config(path: Path | str) -> LeadctlConfig:
    """Read and validate the config file at `path` (safe YAML loader, strict models)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist (pass --config PATH)")
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {exc}") from None
    return parse_config(data, source=path.resolve())


def config_hash(cfg: LeadctlConfig) -> str:
    """A stable hash of what the config decides (used in model cards and manifests).

    Where files live is left out (the output section, the inputs directory), so the same
    config gives the same hash on a laptop, in CI and on the nightly server.
    """
    data = cfg.model_dump(mode="json", exclude={"output": True, "inputs": {"dir"}})
    base = cfg.inputs.dir
    for name, table in cfg.inputs.tables.items():
        path = table.path
        data["inputs"]["tables"][name]["path"] = str(
            path.relative_to(base) if path.is_relative_to(base) else path.name
        )
    payload = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
