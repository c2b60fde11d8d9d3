"""Config loading: strict keys with suggestions, relative paths, clear YAML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadctl.config import config_hash, load_config
from leadctl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_default_config_loads_and_paths_are_relative_to_the_file() -> None:
    cfg = load_config(ROOT / "configs" / "default.yaml")
    assert cfg.inputs.dir == (ROOT / "sample_data").resolve()
    assert cfg.inputs.tables["leads"].path == (ROOT / "sample_data" / "leads.csv").resolve()
    assert cfg.output.dir == (ROOT / "out").resolve()
    assert cfg.output.models == cfg.output.dir / "models"
    assert cfg.inputs.tables["leads"].columns["lead_id"] == "Id"


def test_unknown_keys_suggest_the_closest_valid_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "inputs:\n  dri: x\n  tables:\n    leads:\n      path: a.csv\n"
        "      colums: {}\noutptu: {}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "unknown key 'inputs.dri'; did you mean 'dir'?" in message
    assert "unknown key 'inputs.tables.leads.colums'; did you mean 'columns'?" in message
    assert "unknown key 'outptu'; did you mean 'output'?" in message


def test_wrong_types_and_bad_yaml_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inputs:\n  max_reject_share: lots\n")
    with pytest.raises(ConfigError, match="inputs.max_reject_share"):
        load_config(path)
    path.write_text("inputs: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_unknown_table_and_stage_names_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inputs:\n  tables:\n    contacts: {path: c.csv}\n")
    with pytest.raises(ConfigError, match="unknown table"):
        load_config(path)
    path.write_text("lifecycle:\n  active_sales_stages: [SAL, Working]\n")
    with pytest.raises(ConfigError, match="unknown stage"):
        load_config(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_config_hash_is_stable_and_changes_with_content(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text("product_groups: [A]\n")
    b = tmp_path / "b.yaml"
    b.write_text("product_groups: [B]\n")
    assert config_hash(load_config(a)) == config_hash(load_config(a))
    assert config_hash(load_config(a)) != config_hash(load_config(b))


def test_config_hash_ignores_where_files_live(tmp_path: Path) -> None:
    text = "inputs:\n  dir: {d}\n  tables:\n    leads: {{path: leads.csv}}\noutput:\n  dir: {o}\n"
    a = tmp_path / "a.yaml"
    a.write_text(text.format(d="/data/one", o="/out/one"))
    b = tmp_path / "b.yaml"
    b.write_text(text.format(d="/data/two", o="/out/two"))
    c = tmp_path / "c.yaml"
    c.write_text(text.format(d="/data/two", o="/out/two").replace("leads.csv", "other.csv"))
    assert config_hash(load_config(a)) == config_hash(load_config(b))
    assert config_hash(load_config(a)) != config_hash(load_config(c))
